export * from "./identity";
export * from "./ledger";
export * from "./audit";
export * from "./checks";
export * from "./ingest";
export * from "./approvals";
export * from "./xero";
export * from "./matching";
