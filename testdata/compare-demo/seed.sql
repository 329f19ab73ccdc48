-- Demo data for `make demo-compare` (MariaDB: the seq_1_to_N tables come with its sequence engine).
DROP TABLE IF EXISTS srctl_demo_orders;
CREATE TABLE srctl_demo_orders (
  id INT PRIMARY KEY,
  customer INT NOT NULL,
  amount DECIMAL(10,2) NOT NULL,
  status VARCHAR(10) NOT NULL,
  KEY idx_customer (customer)
);
INSERT INTO srctl_demo_orders
  SELECT seq, seq % 2000, (seq % 997) / 7, ELT(1 + seq % 3, 'paid', 'open', 'refunded') FROM seq_1_to_200000;
ANALYZE TABLE srctl_demo_orders;
