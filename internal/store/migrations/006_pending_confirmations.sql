-- Confirmation emails not yet sent (over the rate, or a failed send), found
-- by the confirmation sweep without scanning the supporters.
CREATE INDEX supporters_pending_confirmation ON supporters (id)
    WHERE status = 'unconfirmed' AND confirm_sent_at IS NULL;
