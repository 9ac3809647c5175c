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
        guard stored.hasPrefix(SecretBox.prefix) else { return stored }
        guard let box = override ?? box else { throw CorruptStoredValue(column: "channels.credentials (encrypted; no key)", id: id) }
        do {
            return try box.open(stored)
        } catch {
            throw CorruptStoredValue(column: "channels.credentials (does not decrypt with this key)", id: id)
        }
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
