-- Member count per room, kept by triggers in the same transaction as each membership change.
-- Presence reads it at connect to skip rooms over PRESENCE_ROOM_LIMIT without loading their members.
ALTER TABLE rooms ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET member_count = (
  SELECT count(*) FROM room_members m WHERE m.tenant_id = rooms.tenant_id AND m.room_id = rooms.room_id
);
CREATE TRIGGER room_members_count_insert AFTER INSERT ON room_members BEGIN
  UPDATE rooms SET member_count = member_count + 1 WHERE tenant_id = NEW.tenant_id AND room_id = NEW.room_id;
END;
CREATE TRIGGER room_members_count_delete AFTER DELETE ON room_members BEGIN
  UPDATE rooms SET member_count = member_count - 1 WHERE tenant_id = OLD.tenant_id AND room_id = OLD.room_id;
END;
