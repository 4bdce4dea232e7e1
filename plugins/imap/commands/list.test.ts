// LIST-EXTENDED (RFC 5258) and LSUB (RFC 3501 §6.3.9) on the wire, after the RFC 5258 §5
// examples: CREATE does not subscribe; a subscription outlives DELETE (\NonExistent);
// CHILDINFO with RECURSIVEMATCH; LSUB "%" shows \Noselect parents; unknown options are BAD.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { TestServer } from "../../../tests/helpers/server.ts";
import { rawLogin, startImap, type RawClient } from "../../../tests/helpers/imap.ts";

let srv: TestServer;
let c: RawClient;
beforeAll(async () => {
  srv = await startImap();
  c = await rawLogin(srv, 0);
  for (const n of ["Fruit/Apple", "Fruit/Banana", "Fruit/Peach", "Tofu", "Vegetable/Broccoli", "Vegetable/Corn"]) expect(await c.cmd(`CREATE ${n}`)).toMatch(/OK/);
  for (const n of ["Fruit/Banana", "Fruit/Peach", "Vegetable", "Vegetable/Broccoli"]) expect(await c.cmd(`SUBSCRIBE ${n}`)).toMatch(/OK/);
  expect(await c.cmd("DELETE Fruit/Peach")).toMatch(/OK/);
});
afterAll(async () => {
  c.close();
  await srv.cleanup();
});

const lines = (r: string) => r.split("\r\n").filter((l) => l.startsWith("* "));

test("CREATE subscribes nothing; LIST (SUBSCRIBED) shows a deleted subscribed name \\NonExistent", async () => {
  const r = lines(await c.cmd('LIST (SUBSCRIBED) "" "*"'));
  expect(r.filter((l) => !l.includes('"/" INBOX') && !/Sent|Drafts|Trash|Junk|Archive/.test(l))).toEqual([
    '* LIST (\\HasNoChildren \\Subscribed) "/" Fruit/Banana',
    '* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" Fruit/Peach',
    '* LIST (\\HasChildren \\Subscribed) "/" Vegetable',
    '* LIST (\\HasNoChildren \\Subscribed) "/" Vegetable/Broccoli',
  ]);
  // Plain LIST: Peach is gone.
  expect(await c.cmd('LIST "" "Fruit/*"')).not.toContain("Peach");
});

test("RECURSIVEMATCH: CHILDINFO on a parent that is not subscribed itself", async () => {
  const r = await c.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)');
  expect(r).toContain('* LIST (\\HasChildren) "/" Fruit ("CHILDINFO" ("SUBSCRIBED"))');
  expect(r).toContain('* LIST (\\HasChildren \\Subscribed) "/" Vegetable');
  expect(r).not.toContain("Tofu");
});

test("LSUB: '%' shows unsubscribed parents \\Noselect, '*' does not", async () => {
  const pct = await c.cmd('LSUB "" "%"');
  expect(pct).toContain('* LSUB (\\Noselect) "/" Fruit\r\n');
  expect(pct).toContain('* LSUB () "/" Vegetable\r\n');
  const star = await c.cmd('LSUB "" "*"');
  expect(star).not.toMatch(/"\/" Fruit\r\n/);
  expect(star).toContain('* LSUB (\\Noselect) "/" Fruit/Peach\r\n');
  expect(star).toContain('* LSUB () "/" Fruit/Banana\r\n');
});

test("subscribing a name that does not exist; CREATE then keeps it subscribed", async () => {
  expect(await c.cmd("SUBSCRIBE Later")).toMatch(/t\d+ OK/);
  expect(await c.cmd('LIST (SUBSCRIBED) "" "Later"')).toContain('* LIST (\\NonExistent \\HasNoChildren \\Subscribed) "/" Later');
  await c.cmd("CREATE Later");
  expect(await c.cmd('LIST (SUBSCRIBED) "" "Later"')).toContain('* LIST (\\HasNoChildren \\Subscribed) "/" Later');
  expect(await c.cmd("UNSUBSCRIBE Fruit/Peach")).toMatch(/t\d+ OK/);
  expect(await c.cmd('LIST (SUBSCRIBED) "" "*"')).not.toContain("Peach");
});

test("unknown selection or return options are BAD", async () => {
  expect(await c.cmd('LIST (FROBNICATE) "" "*"')).toMatch(/t\d+ BAD/);
  expect(await c.cmd('LIST "" "*" RETURN (FROBNICATE)')).toMatch(/t\d+ BAD/);
  expect(await c.cmd('LIST (RECURSIVEMATCH) "" "*"')).toMatch(/t\d+ BAD/);
});
