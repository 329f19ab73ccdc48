SELECT customer, SUM(amount) AS paid FROM srctl_demo_orders WHERE status = 'paid' AND customer < 50 GROUP BY customer ORDER BY customer
