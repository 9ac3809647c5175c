extension Schema {
    // 5: channel fidelity.
    //    - messages.edited_at / deleted_at: a contact edited or unsent a message; the timeline
    //      shows the latest text and says so.
    //    - contact_identities.alias_id: a second address of the same identity (WhatsApp's
    //      business-scoped user id next to the phone number), so that a message carrying either
    //      finds the same contact.
    //    - contact_identities.phone_digits: the digits of an identity whose address is a phone
    //      number (WhatsApp, SMS), searchable like the contact's own phone.
    //    - contact_identities.profile_due_at / profile_attempts: a nameless sender whose profile
    //      is to be fetched from the provider, off the webhook's path.
    static let fidelity = Migration(version: 5, name: "channel fidelity") { f in
        var statements = [
            "ALTER TABLE messages ADD COLUMN edited_at \(f.bigint)",
            "ALTER TABLE messages ADD COLUMN deleted_at \(f.bigint)",
            "ALTER TABLE contact_identities ADD COLUMN alias_id TEXT",
            "CREATE UNIQUE INDEX contact_identities_alias ON contact_identities (channel_id, alias_id) WHERE alias_id IS NOT NULL",
            "ALTER TABLE contact_identities ADD COLUMN phone_digits TEXT",
            "ALTER TABLE contact_identities ADD COLUMN profile_due_at \(f.bigint)",
            "ALTER TABLE contact_identities ADD COLUMN profile_attempts \(f.bigint) NOT NULL DEFAULT 0",
            "CREATE INDEX contact_identities_profile_due ON contact_identities (profile_due_at) WHERE profile_due_at IS NOT NULL",
        ]
        // Existing phone-number identities become searchable: WhatsApp ids are the digits,
        // SMS addresses are E.164 ("+" and digits); anything else (short codes, names) is left out.
        let digitsOnly: String
        switch f.kind {
        case .sqlite: digitsOnly = "NOT (ltrim(external_id, '+') GLOB '*[^0-9]*') AND ltrim(external_id, '+') <> ''"
        case .postgres: digitsOnly = "ltrim(external_id, '+') ~ '^[0-9]+$'"
        }
        statements.append("""
            UPDATE contact_identities SET phone_digits = ltrim(external_id, '+')
            WHERE \(digitsOnly) AND channel_id IN (SELECT id FROM channels WHERE kind IN ('whatsapp', 'sms'))
            """)
        switch f.kind {
        case .sqlite:
            statements += [
                """
                CREATE VIRTUAL TABLE identity_phone_search USING fts5(
                    phone_digits, content='contact_identities', content_rowid='id', tokenize='trigram'
                )
                """,
                "INSERT INTO identity_phone_search (identity_phone_search) VALUES ('rebuild')",
                """
                CREATE TRIGGER identities_phone_insert AFTER INSERT ON contact_identities BEGIN
                    INSERT INTO identity_phone_search (rowid, phone_digits) VALUES (new.id, new.phone_digits);
                END
                """,
                """
                CREATE TRIGGER identities_phone_delete AFTER DELETE ON contact_identities BEGIN
                    INSERT INTO identity_phone_search (identity_phone_search, rowid, phone_digits) VALUES ('delete', old.id, old.phone_digits);
                END
                """,
                """
                CREATE TRIGGER identities_phone_update AFTER UPDATE OF phone_digits ON contact_identities BEGIN
                    INSERT INTO identity_phone_search (identity_phone_search, rowid, phone_digits) VALUES ('delete', old.id, old.phone_digits);
                    INSERT INTO identity_phone_search (rowid, phone_digits) VALUES (new.id, new.phone_digits);
                END
                """,
            ]
        case .postgres:
            statements.append("CREATE INDEX contact_identities_phone_trgm ON contact_identities USING gin (phone_digits gin_trgm_ops)")
        }
        return statements
    }
}
