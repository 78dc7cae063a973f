#!/usr/bin/env python3
"""Writes N synthetic customers as an import CSV (forewarn customers import) to stdout.

  make_customers.py N [--bad K]

Customer i (1..N): external id B-<i>; 60% Arabic; four time zones; a unique Saudi mobile
number (+9665, a valid prefix digit, i in 7 digits; N < 10^7); an email; electricity/riyadh, every fourth also water/riyadh;
every tenth an account IBAN; every sixth has opted out of maintenance; a name with a comma
or a quote now and then (quoted fields). --bad K makes K evenly spaced rows invalid (an
unknown region, a phone libphonenumber rejects, an unknown time zone, in turn), so the
import reports exactly K rejected rows.
"""
import csv
import sys


def iban(account):
    bban = f"80{account:018d}"
    digits = "".join(str(int(c, 36)) for c in bban + "SA00")
    return f"SA{98 - int(digits) % 97:02d}{bban}"


def row(i, bad):
    ar = i % 5 < 3
    name = f"عميل {i}" if ar else (f'Customer "{i}", Jr.' if i % 97 == 0 else f"Customer {i}")
    tz = {7: "Asia/Dubai", 11: "Europe/London", 13: "America/New_York"}.get(i % 20, "Asia/Riyadh")
    services = "electricity/riyadh" + (";water/riyadh" if i % 4 == 0 else "")
    phone = f"+9665{'03569'[i % 5]}{i:07d}"  # Saudi mobile prefixes 50/53/55/56/59
    if bad == 0:
        services = "electricity/atlantis"
    elif bad == 1:
        phone = "+96612"
    elif bad == 2:
        tz = "Mars/Olympus"
    return [f"B-{i}", name, "ar" if ar else "en", tz, phone, f"customer{i}@example.com", services,
            iban(i) if i % 10 == 0 else "", "", "", "none" if i % 6 == 5 else "", ""]


def main():
    n = int(sys.argv[1])
    bad_rows = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--bad" else 0
    step = n // bad_rows if bad_rows else 0
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["external_id", "name", "language", "time_zone", "phone", "email", "services", "accounts",
                "beneficiaries", "unplanned_outages", "planned_maintenance", "banking_changes"])
    for i in range(1, n + 1):
        k = i // step - 1 if step and i % step == 0 and i // step <= bad_rows else -1
        w.writerow(row(i, k % 3 if k >= 0 else -1))


if __name__ == "__main__":
    main()
