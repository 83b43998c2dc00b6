DROP TABLE payment_exceptions;
DROP TABLE bank_transfers;
