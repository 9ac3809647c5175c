import Foundation
import ParleyChannels
import Testing

/// Signatures checked against the values providers publish in their own documentation, not only
/// against values Parley computes itself.
@Suite("Published signature examples")
struct PublishedSignatureTests {
    /// Twilio's request-validation example (auth token 12345, the documented URL and form
    /// fields); Twilio has published it with two caller numbers and their signatures.
    @Test(arguments: [("+14158675310", "GvWf1cFY/Q7PnoempGyD5oXAezc="), ("+14158675309", "RSOYDt4T1cUTdK1PDd93/VVr8B8=")])
    func twilioDocumentedRequest(caller: String, signature: String) {
        let parameters = [("CallSid", "CA1234567890ABCDE"), ("Caller", caller), ("Digits", "1234"), ("From", caller), ("To", "+18005551212")]
        #expect(TwilioSMSAdapter.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters, authToken: "12345") == signature)
        #expect(TwilioSMSAdapter.signature(url: "https://mycompany.com/myapp.php?foo=1&bar=2", parameters: parameters, authToken: "12346") != signature)
    }
}
