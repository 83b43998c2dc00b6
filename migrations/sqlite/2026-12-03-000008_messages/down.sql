-- Phone rows and the new columns stay: a rebuild back to the narrower CHECK would fail on them.
DROP TABLE notifications;
DROP TABLE sms_inbound;
