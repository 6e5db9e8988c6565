import { describe, expect, test } from "bun:test";
import { t } from "elysia";
import { plainSchema, SchemaRefs } from "./schema";

describe("plainSchema", () => {
  test("folds Elysia's query-string coercion (anyOf [string format integer, integer]) into the integer", () => {
    const s = plainSchema(t.Object({ limit: t.Optional(t.Integer({ minimum: 1, maximum: 200 })) }));
    expect(s).toEqual({ type: "object", properties: { limit: { minimum: 1, maximum: 200, type: "integer" } } });
  });

  test("keeps a real union (string or array) as it is", () => {
    const s = plainSchema(t.Union([t.String(), t.Array(t.String())]));
    expect(s.anyOf).toEqual([{ type: "string" }, { type: "array", items: { type: "string" } }]);
  });
});

describe("SchemaRefs", () => {
  const Room = t.Object({ room_id: t.String() });
  const Msg = t.Object({ id: t.String(), room: t.Union([Room, t.Null()]) });
  const refs = new SchemaRefs([
    ["Room", Room],
    ["Msg", Msg],
  ]);

  test("a sub-schema equal to a named one becomes a $ref, also inside other components", () => {
    expect(refs.refify(plainSchema(t.Object({ rooms: t.Array(Room) })))).toEqual({
      type: "object",
      required: ["rooms"],
      properties: { rooms: { type: "array", items: { $ref: "#/components/schemas/Room" } } },
    });
    expect((refs.components.Msg as any).properties.room.anyOf[0]).toEqual({ $ref: "#/components/schemas/Room" });
  });

  test("a component never refers to itself", () => {
    expect(refs.components.Room).toEqual(plainSchema(Room));
  });
});
