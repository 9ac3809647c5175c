import Foundation
import ParleyCore
@testable import ParleyStore
import Testing

/// Contacts without custom fields skip the JSON coders; what they store and read back must be
/// what the coders would have made of it.
@Suite("Stored custom fields")
struct StoredCustomFieldsTests {
    @Test func noCustomFieldsAreStoredAsTheEncoderWritesThem() throws {
        let encoded = String(decoding: try JSONEncoder.store.encode([String: CustomFieldValue]()), as: UTF8.self)
        #expect(try ContactRepository.encode([:]) == encoded)
        #expect(try JSONDecoder.store.decode([String: CustomFieldValue].self, from: Data(ContactRepository.noCustomFields.utf8)).isEmpty)
    }
}
