#!/bin/bash
# e2e-dsn.sh - MAIL FROM:<> passes only as a genuine delivery report: a
# fake multipart/report (a Cc, an EDIFACT part and an .exe where the
# delivery status belongs) is refused at end of message naming the rule
# and never reaches HTG; a real delivery status notification (HTG takes
# DSNs, MSA §2.2.3) arrives, with its null sender.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10174 10175

e2e_send fake dsn-fake.eml '<>' AGS@htpoort.nl
fake=$SB_MSGID
e2e_assert_reply fake 550 END-OF-MESSAGE "[HTG"
grep -E '^<\*\* ' "$E2E_OUT/fake.swaks" | grep -qF -e '[HTG ENV-ONE-SENDER]' -e '[HTG HDR-CC]' ||
    e2e_fail "fake: the reply names neither ENV-ONE-SENDER nor HDR-CC"
e2e_ok "fake: refused naming the rule"
e2e_send genuine dsn-genuine.eml '<>' AGS@htpoort.nl
genuine=$SB_MSGID
e2e_assert_accepted genuine
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived fake "$fake" 0
e2e_assert_arrived genuine "$genuine" 1
sb_dump_envelope "$(sb_dump_file_for_msgid "$genuine")" | grep -q '^X-Mail-Args: <>' ||
    e2e_fail "genuine: the null sender did not arrive"
e2e_ok "genuine: arrived with MAIL FROM:<>"

# The same fake, Cc removed: the structure alone is refused.
sed '/^Cc: /d' "$E2E_SAMPLES/dsn-fake.eml" >"$E2E_OUT/fake-nocc.in"
sb_render "$E2E_OUT/fake-nocc.in" "$E2E_OUT/fake-nocc.eml"
sb_swaks_relay --from '<>' --to AGS@htpoort.nl --data "@$E2E_OUT/fake-nocc.eml" \
    >"$E2E_OUT/fake-nocc.swaks" 2>&1 || true
e2e_assert_reply fake-nocc 550 END-OF-MESSAGE "[HTG ENV-ONE-SENDER]"
