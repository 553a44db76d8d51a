const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids from URLs and forms are checked before they reach SQL, so a malformed id is a 404, not a 500. */
export const isUuid = (s: string | undefined | null): s is string => typeof s === "string" && UUID.test(s);
