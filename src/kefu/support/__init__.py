"""Support actions on a customer's wallet account, as one layer every surface calls.

The staff API, the console, the assistant and the phone ask for an action here with a
*requester* (a staff member with a role, or a customer verified through a channel); this
layer alone decides whether they may, whether the verification is strong enough, whether
the action runs at once or waits for a supervisor (``foureyes``), and writes the audit row
and the case note."""
