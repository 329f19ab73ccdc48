-- "simplified": the function on the column keeps the optimizer from using idx_customer
SELECT id, amount, status
FROM srctl_demo_orders
WHERE customer + 0 = 42
