// The Session resource (RFC 8620 §2): capabilities with the enforced limits, the one
// account of the authenticated user, and the endpoint URLs.
import type { AuthUser } from "../../core/types.ts";
import type { JmapConfig } from "./config.ts";
import { CORE, MAIL, SUBMISSION, VACATION, accountIdOf } from "./context.ts";

/** The session changes only if the user's account or our capabilities do. */
export const sessionStateOf = (user: AuthUser) => "s" + new Bun.CryptoHasher("sha256").update(`${user.accountId}:${user.address}:v1`).digest("hex").slice(0, 16);

export function sessionObject(cfg: JmapConfig, user: AuthUser, origin: string, withVacation: boolean): Record<string, unknown> {
  const id = accountIdOf(user.accountId);
  const mail = {
    maxMailboxesPerEmail: 1,
    maxMailboxDepth: null,
    maxSizeMailboxName: 255,
    maxSizeAttachmentsPerEmail: cfg.maxSizeUpload,
    emailQuerySortOptions: ["receivedAt", "sentAt", "size", "from", "to", "subject"],
    mayCreateTopLevelMailbox: true,
  };
  const submission = { maxDelayedSend: 0, submissionExtensions: {} };
  return {
    capabilities: {
      [CORE]: {
        maxSizeUpload: cfg.maxSizeUpload,
        maxConcurrentUpload: cfg.maxConcurrentUpload,
        maxSizeRequest: cfg.maxSizeRequest,
        maxConcurrentRequests: cfg.maxConcurrentRequests,
        maxCallsInRequest: cfg.maxCallsInRequest,
        maxObjectsInGet: cfg.maxObjectsInGet,
        maxObjectsInSet: cfg.maxObjectsInSet,
        collationAlgorithms: ["i;ascii-casemap"],
      },
      [MAIL]: {},
      [SUBMISSION]: {},
      ...(withVacation && { [VACATION]: {} }),
    },
    accounts: {
      [id]: {
        name: user.address,
        isPersonal: true,
        isReadOnly: false,
        accountCapabilities: { [MAIL]: mail, [SUBMISSION]: submission, ...(withVacation && { [VACATION]: {} }) },
      },
    },
    primaryAccounts: { [MAIL]: id, [SUBMISSION]: id, ...(withVacation && { [VACATION]: id }) },
    username: user.address,
    apiUrl: `${origin}/jmap/api`,
    downloadUrl: `${origin}/jmap/download/{accountId}/{blobId}/{name}?type={type}`,
    uploadUrl: `${origin}/jmap/upload/{accountId}/`,
    eventSourceUrl: `${origin}/jmap/eventsource?types={types}&closeafter={closeafter}&ping={ping}`,
    state: sessionStateOf(user),
  };
}
