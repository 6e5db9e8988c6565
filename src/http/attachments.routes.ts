// POST /rooms/{room_id}/attachments (K U, multipart) and GET /attachments/{attachment_id} (K U or a signed url).
import { Elysia, t } from "elysia";
import type { AttachmentService } from "../chat/attachments";
import type { Actor } from "../chat/types";
import { AppError } from "../errors";
import type { AttachmentRow } from "../storage/attachment-store";
import type { HttpAuth } from "./auth";
import { AttachmentSchema, RoomIdParam } from "./chat-schemas";
import { contextOf, setRawResponse } from "./context";
import { errorResponse } from "./errors";
import { withFilePart } from "./multipart";
import { ErrorSchema, errorResponses } from "./schemas";
import { userScoped } from "./tenant-auth";
import { fileResponse } from "./file-response";

/** Upload (members of the room) and download (members, or anyone with an unexpired signed url). */
export function attachmentRoutes(deps: { auth: HttpAuth; attachments: AttachmentService }) {
  const { attachments, auth } = deps;
  const download = async (request: Request, id: string, q: { expires?: string; signature?: string }, headersOut: Record<string, unknown>): Promise<Response> => {
    let row: AttachmentRow;
    if (q.signature !== undefined || q.expires !== undefined) {
      const check = attachments.urls.verify(id, q.expires ?? "", q.signature ?? "");
      if (check !== "ok") throw new AppError("unauthorized", check === "expired" ? "the signed url has expired" : "invalid signed url");
      row = await attachments.bySignedId(id);
    } else {
      const actor: Actor = await auth.tenantUser(request, headersOut);
      row = await attachments.forCaller(actor, id);
    }
    return fileResponse(request, row, (range) => attachments.open(row, range));
  };
  return new Elysia({ tags: ["Attachments"] })
    .get(
      "/attachments/:attachment_id",
      async ({ request, params, query, set }) => {
        try {
          const res = await download(request, params.attachment_id, query, set.headers as Record<string, unknown>);
          for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string" && !res.headers.has(k)) res.headers.set(k, v);
          return setRawResponse(request, res);
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const res = errorResponse(err, contextOf(request).requestId);
          for (const [k, v] of Object.entries(set.headers)) if (typeof v === "string") res.headers.set(k, v);
          return res;
        }
      },
      {
        params: t.Object({ attachment_id: t.String({ minLength: 1, maxLength: 64, description: "Attachment id (UUIDv7)" }) }),
        query: t.Object({
          expires: t.Optional(t.String({ description: "Of a signed url: unix seconds" })),
          signature: t.Optional(t.String({ description: "Of a signed url: HMAC-SHA256, hex" })),
        }),
        response: { 200: t.Any(), 206: t.Any(), 304: t.Void({ description: "Not modified" }), 416: ErrorSchema, ...errorResponses },
        detail: { summary: "Download (member via key + user or a user token, or a signed url); ETag, Range, nosniff, CSP sandbox" },
      },
    )
    .use(userScoped(auth))
    .post(
      "/rooms/:room_id/attachments",
      async ({ actor, params, request, set }) => {
        const a = await withFilePart(request, (part) => attachments.upload(actor, params.room_id, part));
        set.status = 201;
        return a;
      },
      {
        // The body is streamed by withFilePart: Elysia must not read (buffer) it first.
        parse: "none",
        params: t.Object({ room_id: RoomIdParam }),
        response: { 201: AttachmentSchema, ...errorResponses },
        detail: {
          summary: "Upload a file (multipart/form-data, one part named file); members only; 413 over max_attachment_bytes or the tenant's quota",
          // The body is not a schema Elysia validates (it is streamed): documented here.
          requestBody: {
            required: true,
            content: {
              "multipart/form-data": {
                schema: { type: "object", required: ["file"], properties: { file: { type: "string", format: "binary", description: "The file; its filename (without directories) and Content-Type are kept" } } },
                example: { file: "(bytes of release-plan.png)" },
              },
            },
          },
        },
      },
    );
}
