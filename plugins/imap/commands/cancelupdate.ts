// RFC 5267 §4.4 CANCELUPDATE: stop the updates of the live SEARCH/SORT results named by tag.
import { SELECTED, bad, ok, type CommandSpec } from "../command.ts";

export const cancelupdate: CommandSpec = {
  name: "CANCELUPDATE",
  states: SELECTED,
  async run(s, c) {
    const tags: string[] = [];
    while (!c.args.done()) tags.push(c.args.astring());
    if (tags.length === 0) return bad("CANCELUPDATE needs a tag");
    for (const t of tags) if (!s.contexts.has(t)) return bad(`No update context ${t.slice(0, 40)}`);
    for (const t of tags) s.contexts.delete(t);
    return ok("CANCELUPDATE completed");
  },
};
