extension Schema {
    // 9: hardening. Login throttling kept in the database so that every instance sees the same
    //    failures (keys `email:…` and `client:…`), the clients each user has signed in from
    //    (they may still sign in while their address is flooded), webhook nonces seen (WeChat's
    //    replay check, shared by instances), and delivery receipts that arrived before the send
    //    call returned the provider's message id.
    static let hardening = Migration(version: 9, name: "hardening") { f in
        [
            """
            CREATE TABLE login_throttle (
                key TEXT PRIMARY KEY,
                failures INTEGER NOT NULL,
                last_failure_at \(f.bigint) NOT NULL,
                blocked_until \(f.bigint)
            )
            """,
            """
            CREATE TABLE login_known_clients (
                user_id \(f.bigint) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                client TEXT NOT NULL,
                last_success_at \(f.bigint) NOT NULL,
                PRIMARY KEY (user_id, client)
            )
            """,
            """
            CREATE TABLE webhook_nonces (
                channel_id \(f.bigint) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                nonce TEXT NOT NULL,
                seen_at \(f.bigint) NOT NULL,
                PRIMARY KEY (channel_id, nonce)
            )
            """,
            "CREATE INDEX webhook_nonces_seen ON webhook_nonces (seen_at)",
            """
            CREATE TABLE early_statuses (
                channel_id \(f.bigint) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                provider_message_id TEXT NOT NULL,
                status TEXT NOT NULL,
                failure_reason TEXT,
                error_code TEXT,
                error_text TEXT,
                received_at \(f.bigint) NOT NULL,
                PRIMARY KEY (channel_id, provider_message_id, status)
            )
            """,
            "CREATE INDEX early_statuses_received ON early_statuses (received_at)",
        ]
    }
}
