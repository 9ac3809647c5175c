extension Schema {
    // 6: email. Where each email channel's IMAP polling stands: the folder's UIDVALIDITY and the
    //    last UID taken in, so a restart neither loses nor repeats mail; a lease so that one
    //    instance at a time polls a mailbox.
    static let email = Migration(version: 6, name: "email") { f in
        [
            """
            CREATE TABLE email_mailboxes (
                channel_id \(f.bigint) PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
                uid_validity \(f.bigint),
                last_uid \(f.bigint) NOT NULL DEFAULT 0,
                locked_until \(f.bigint),
                last_error TEXT,
                updated_at \(f.bigint) NOT NULL
            )
            """,
        ]
    }
}
