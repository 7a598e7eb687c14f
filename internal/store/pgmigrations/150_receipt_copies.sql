-- Receipt copies (issue 27): how many copies of their letter a supporter
-- was emailed and when the last went, so that an address that has not
-- proven itself gets at most one, ever, counted across instances; and the
-- site-wide budget of copies per minute (mail_budget, one row per kind of
-- supporter mail, made on first use).
ALTER TABLE supporters ADD COLUMN copies_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE supporters ADD COLUMN copy_sent_at BIGINT;
CREATE TABLE mail_budget (
    kind         TEXT    PRIMARY KEY,
    window_start BIGINT NOT NULL,
    used         BIGINT NOT NULL
);
