SELECT customer, SUM(amount) AS paid FROM srctl_demo_orders WHERE customer < 50 AND status IN ('paid') GROUP BY customer ORDER BY customer
