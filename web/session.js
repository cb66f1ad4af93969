// Who is signed in, and where each kind of user starts.

export const isApplicant = (who) => !!who && (who.kind === "person" || who.kind === "enterprise");

/** A predicate: staff holding one of these roles. */
export const hasRole =
  (...roles) =>
  (who) =>
    !!who && who.kind === "staff" && roles.some((r) => (who.roles || []).includes(r));

/** The page a signed-in person starts on. */
export function homeOf(who) {
  if (!who) return "#/catalog";
  if (isApplicant(who)) return "#/mine";
  if (hasRole("clerk")(who)) return "#/desk";
  if (hasRole("approver")(who)) return "#/inbox";
  if (hasRole("supervisor", "admin")(who)) return "#/board";
  if (hasRole("finance")(who)) return "#/finance/bill";
  return "#/catalog";
}
