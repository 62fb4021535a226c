-- How sure a tamper verdict is (common/domain/trust.ts `Confirmation`): recorded on the audit and
-- on the trust event it caused, so a score can be explained and replayed.
ALTER TABLE audits ADD COLUMN confirmation text CHECK (confirmation IN ('unconfirmed', 'confirmed', 'unambiguous'));
ALTER TABLE trust_events ADD COLUMN confirmation text CHECK (confirmation IN ('unconfirmed', 'confirmed', 'unambiguous'));
