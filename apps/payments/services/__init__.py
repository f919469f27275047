"""Payment writes, by subject: `checkout` (start a payment), `events` (store and process a
processor's notifications), `receipts` (redeem a platform store receipt), `sandbox`."""
