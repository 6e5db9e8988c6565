-- Member count per room. The store keeps it in the same statement as each membership change (after
-- locking the room row, so membership changes and sends take their locks in one order).
-- Presence reads it at connect to skip rooms over PRESENCE_ROOM_LIMIT without loading their members.
ALTER TABLE rooms ADD COLUMN member_count integer NOT NULL DEFAULT 0;
UPDATE rooms SET member_count = (
  SELECT count(*) FROM room_members m WHERE m.tenant_id = rooms.tenant_id AND m.room_id = rooms.room_id
);
