SELECT id, amount, status
FROM srctl_demo_orders
WHERE customer = 42
