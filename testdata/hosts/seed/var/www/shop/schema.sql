-- Shop database, as deployed in 2011.
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer    VARCHAR(80) NOT NULL,
  client_ip   CHAR(15) NOT NULL,
  created_at  TIMESTAMP NOT NULL
);

CREATE TABLE login_log (
  user_id     INTEGER NOT NULL,
  ip          VARCHAR(45) NOT NULL,
  at          TIMESTAMP NOT NULL
);
