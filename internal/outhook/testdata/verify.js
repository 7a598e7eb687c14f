// Verifies deliveries that outcry made with standardwebhooks, the Standard
// Webhooks specification's JavaScript reference library (a library nobody
// here wrote). Reads a JSON file: {"secret": "whsec_…", "deliveries":
// [{"headers": {…}, "body": "…", "expect": "valid" | "invalid"}]}. Prints
// one line per delivery and exits 1 when any result is not the expected one.
const fs = require("node:fs");
const { Webhook } = require("standardwebhooks");

const input = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const wh = new Webhook(input.secret);
let bad = 0;
for (const [i, d] of input.deliveries.entries()) {
  let got;
  try {
    const payload = wh.verify(d.body, d.headers);
    got = "valid";
    if (typeof payload.type !== "string" || typeof payload.timestamp !== "string" || typeof payload.data !== "object") {
      got = "valid signature, but the body is not {type, timestamp, data}";
    }
  } catch (e) {
    got = "invalid";
    if (d.expect === "valid") console.log(`delivery ${i}: ${e.message}`);
  }
  console.log(`delivery ${i} (${d.headers["webhook-id"]}): ${got}, expected ${d.expect}`);
  if (got !== d.expect) bad++;
}
if (input.deliveries.length === 0) {
  console.log("no deliveries to verify");
  bad++;
}
process.exit(bad ? 1 : 0);
