import Crypto
import Foundation
import Synchronization

/// Channel credentials at rest: AES-256-GCM under the installation's secret key, stored as
/// `enc1:` and the base64 of nonce, ciphertext and tag. Rows written before a key was installed
/// (plain JSON) are still read, and re-encrypted at start (``ChannelRepository/encryptStoredCredentials()``).
public struct SecretBox: Sendable {
    public static let prefix = "enc1:"
    /// The key's bytes (SymmetricKey itself is not Sendable).
    let keyBytes: Data
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: SymmetricKey) {
        self.keyBytes = key.withUnsafeBytes { Data($0) }
    }

    /// A key from its base64 text (32 bytes), as in `PARLEY_SECRET_KEY` or the key file.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else { return nil }
        self.keyBytes = data
    }

    public static func generateKeyText() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: String) throws -> String {
        let sealed = try AES.GCM.seal(Data(plaintext.utf8), using: key)
        guard let combined = sealed.combined else { throw CorruptStoredValue(column: "channels.credentials", id: nil) }
        return Self.prefix + combined.base64EncodedString()
    }

    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))) else {
            throw CorruptStoredValue(column: "channels.credentials", id: nil)
        }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
    }
}

/// The key this process encrypts credentials with, installed once at start by the server and
/// the commands that read channels. Without one, credentials are written as plain JSON.
public enum CredentialEncryption {
    private static let installed = Mutex<SecretBox?>(nil)

    public static var box: SecretBox? { installed.withLock { $0 } }

    public static func install(_ box: SecretBox?) {
        installed.withLock { $0 = box }
    }

    /// The stored form of a credentials JSON text.
    static func store(_ json: String) throws -> String {
        guard let box else { return json }
        return try box.seal(json)
    }

    /// The JSON text of a stored value; `box` overrides the installed key (rotation).
    static func read(_ stored: String, box override: SecretBox? = nil, id: Int64?) throws -> String {
        try open(stored, with: override ?? box, id: id)
    }

    static func open(_ stored: String, with box: SecretBox?, id: Int64?) throws -> String {
        guard stored.hasPrefix(SecretBox.prefix) else { return stored }
        guard let box else { throw CorruptStoredValue(column: "channels.credentials (encrypted; no key)", id: id) }
        do {
            return try box.open(stored)
        } catch {
            throw CorruptStoredValue(column: "channels.credentials (does not decrypt with this key)", id: id)
        }
    }

    private static let opened = OpenedCredentials()

    /// A channel's credentials from their stored text, under the installed key.
    static func credentials(_ stored: String, id: Int64?) throws -> [String: String] {
        try opened.credentials(stored, box: box, id: id)
    }
}

/// Credentials already opened, by their stored text. Every webhook and every delivery reads its
/// channel; opening the credentials each time (AES-GCM, base64, then JSON) was most of a reader
/// thread's work during webhook ingest. The row is still read each time, so a change is seen at
/// once: new credentials are a new stored text (a new nonce each time they are sealed). Entries
/// are kept for one key only, and only values that opened: a text that fails fails every time.
/// The plaintext stays in memory longer than before; the same process holds the key anyway.
final class OpenedCredentials: Sendable {
    /// Past this many texts (channels, or rewrites of them) all are forgotten and reopened.
    static let limit = 256

    private struct Entries {
        var key: Data?
        var values: [String: [String: String]] = [:]
    }

    private let entries = Mutex(Entries())

    func credentials(_ stored: String, box: SecretBox?, id: Int64?) throws -> [String: String] {
        let key = box?.keyBytes
        if let known = entries.withLock({ $0.key == key ? $0.values[stored] : nil }) { return known }
        let json = try CredentialEncryption.open(stored, with: box, id: id)
        let values = try StoredJSON.decode([String: String].self, from: json, column: "channels.credentials", id: id)
        entries.withLock { entries in
            if entries.key != key || entries.values.count >= Self.limit { entries = Entries(key: key) }
            entries.values[stored] = values
        }
        return values
    }
}

extension ChannelRepository {
    /// Re-encrypts every channel's credentials under `newBox` (reading with `oldBox`, or the
    /// installed key): encrypts plain rows at start and rotates keys. Returns the rows rewritten.
    public func encryptStoredCredentials(with newBox: SecretBox, readingWith oldBox: SecretBox? = nil) async throws -> Int {
        try await database.transaction { db in
            let rows = try await db.raw("SELECT id, credentials FROM channels").all()
            var rewritten = 0
            for row in rows {
                let id = try row.decode(column: "id", as: Int64.self)
                let stored = try row.decode(column: "credentials", as: String.self)
                // At start only plain rows are encrypted; one under another key is left for its
                // channel to report (the server must not refuse to start over it).
                if stored.hasPrefix(SecretBox.prefix) && oldBox == nil { continue }
                let json = try CredentialEncryption.read(stored, box: oldBox, id: id)
                try await db.raw("UPDATE channels SET credentials = \(bind: try newBox.seal(json)) WHERE id = \(bind: id)").run()
                rewritten += 1
            }
            return rewritten
        }
    }
}
