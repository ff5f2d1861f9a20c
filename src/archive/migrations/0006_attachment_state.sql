-- Media download state. The file itself lives encrypted in the blob store under a keyed content
-- address; only that address, its detected type and size are kept here.
ALTER TABLE attachments
  ADD COLUMN msgid text NOT NULL DEFAULT '',
  ADD COLUMN path text NOT NULL DEFAULT '',           -- where in the message: image, mixed.item[1]…
  ADD COLUMN blob_address text,
  ADD COLUMN detected_type text,                      -- from magic bytes: jpeg, png, amr, silk, mp4…
  ADD COLUMN stored_size bigint,
  ADD COLUMN attempts integer NOT NULL DEFAULT 0,
  ADD COLUMN last_error text,
  ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN stored_at timestamptz;
CREATE INDEX attachments_due ON attachments (corp_id, next_attempt_at) WHERE status = 'pending';
CREATE UNIQUE INDEX attachments_once ON attachments (corp_id, msgid, path);
