-- One sender sends for every process sharing the database (issue 14): the
-- one named here, while its lease lasts (unix ms). The others stand by and
-- take the row over when it runs out.
CREATE TABLE sender_leader (
    id          BIGINT PRIMARY KEY CHECK (id = 1),
    owner       TEXT    NOT NULL,
    alive_until BIGINT NOT NULL
);
