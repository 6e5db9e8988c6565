// Guards parsed request bodies before Elysia validates them. Elysia builds a validation error's
// message with `${value}` and a pretty-printed JSON.stringify of the offending value:
// - a JSON object with an own "toString"/"valueOf" key makes `${value}` throw (a 400 became a 500);
//   such objects get a non-enumerable Symbol.toPrimitive, which JSON.stringify, Object.keys and schema
//   checks ignore, so the data itself is unchanged;
// - deeply nested arrays overflow the stack in `${value}`, and pretty-printing costs depth^2 (a 40 KB
//   body held the event loop for seconds): bodies nested deeper than MAX_JSON_DEPTH are refused (400).
import { invalid } from "../errors";

/** Deepest nesting of arrays/objects accepted in a request body (serde_json's default limit). */
export const MAX_JSON_DEPTH = 128;

const printable = {
  value: () => "[object Object]",
  enumerable: false,
  configurable: true,
  writable: true,
};

/** Walks a parsed JSON body (iteratively); throws invalid_request when nested deeper than MAX_JSON_DEPTH. */
export function guardJsonBody(root: unknown): void {
  if (root === null || typeof root !== "object") return;
  const stack: [object, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > MAX_JSON_DEPTH) throw invalid(`request body nested deeper than ${MAX_JSON_DEPTH} levels`, [{ path: "/", message: "too deeply nested" }]);
    const items = Array.isArray(v) ? v : Object.values(v);
    if (!Array.isArray(v) && (Object.hasOwn(v, "toString") || Object.hasOwn(v, "valueOf")) && Object.isExtensible(v)) Object.defineProperty(v, Symbol.toPrimitive, printable);
    for (const item of items) if (item !== null && typeof item === "object") stack.push([item, depth + 1]);
  }
}
