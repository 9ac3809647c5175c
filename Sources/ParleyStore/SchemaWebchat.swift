extension Schema {
    // 4: website chat. A webchat channel's public key (the `data-channel` of its snippet), its
    //    settings as JSON (sites allowed to embed it, colour, greeting, pre-chat form, office
    //    hours) and the secret sites use to sign their users' identifiers. Visitors are contact
    //    identities of the channel (`visitor:…` anonymous, `user:…` verified): no table of their own.
    static let webchat = Migration(version: 4, name: "webchat") { f in
        [
            """
            CREATE TABLE webchat_channels (
                channel_id \(f.bigint) PRIMARY KEY REFERENCES channels(id) ON DELETE CASCADE,
                workspace_id \(f.bigint) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                public_key TEXT NOT NULL UNIQUE,
                settings TEXT NOT NULL,
                identity_secret TEXT NOT NULL,
                updated_at \(f.bigint) NOT NULL
            )
            """,
            "CREATE INDEX messages_identity ON messages (identity_id, id)",
        ]
    }
}
