extension Schema {
    // 12 (PostgreSQL; 11 was taken back): the trigram indexes behind contact search take each
    //     change at once.
    //     By default a GIN index queues new entries in a pending list (up to 4 MB) and every
    //     search reads that whole list: after a few thousand new contacts a search that matches
    //     nothing read ~330 pages of it (`pgstatginindex`: 3,400–5,200 pending entries per
    //     index), so searches slowed as contacts arrived, until a vacuum emptied it. Agents
    //     search all day; new contacts are written once.
    static let searchIndexes = Migration(version: 12, name: "search indexes without pending lists") { f in
        guard f.kind == .postgres else { return [] }
        let indexes = ["contacts_search_name_trgm", "contacts_phone_digits_trgm", "contact_identities_phone_trgm"]
        return indexes.map { "ALTER INDEX \($0) SET (fastupdate = off)" }
            + indexes.map { "SELECT gin_clean_pending_list('\($0)'::regclass)" }
    }
}
