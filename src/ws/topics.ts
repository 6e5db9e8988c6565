// Pub/sub topic names. Tenant ids are UUIDs (no ":"), so the prefix split is unambiguous.

/** Topic of one room: every live socket of its members. */
export const roomTopic = (tenantId: string, roomId: string): string => `r:${tenantId}:${roomId}`;

/** Topic of one user: every live socket of that user. */
export const userTopic = (tenantId: string, userId: string): string => `u:${tenantId}:${userId}`;
