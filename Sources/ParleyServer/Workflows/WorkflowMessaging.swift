import Foundation
import ParleyCore
import ParleyStore

/// The steps that write to the contact: send a message, ask a question and wait for the reply.
/// Both go through the outbound path with the workflow as sender, so the window policy applies
/// as to any automated sender (no human-agent tag), and a refused send fails the step.
extension WorkflowStepExecutor {
    mutating func send(_ step: WorkflowStep) async throws -> (StepOutcome, String?) {
        guard let channel = try await conversationChannel() else { return (.fail("the contact has no conversation on a channel"), nil) }
        let values = try await variables()
        let content: OutboundContent
        let preview: String
        if let template = step.template {
            let parameters = (template.parameters ?? []).map { WorkflowVariables.render($0, values: values) }
            content = .template(name: template.name, language: template.language, parameters: parameters)
            preview = "template \(template.name) (\(template.language))"
        } else {
            let text = WorkflowVariables.render(step.text ?? "", values: values)
            content = .text(text)
            preview = text
        }
        let messageId = try await deliver(content, channelId: channel.channelId)
        return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded", values: ["messageId": String(messageId)]), detail: nil), preview)
    }

    mutating func ask(_ step: WorkflowStep) async throws -> (StepOutcome, String?) {
        let now = services.clock.now()
        let timeout = step.seconds ?? 24 * 3600
        let values = try await variables()
        if run.context.pending == step.id {
            guard let reply = run.context.reply else {
                run.context.pending = nil
                return (.next(target: nil, result: WorkflowStepResult(outcome: "timed_out"), detail: "no reply in time"), nil)
            }
            run.context.reply = nil
            let answer = reply.trimmingCharacters(in: .whitespacesAndNewlines)
            if let valid = Self.validAnswer(answer, kind: step.answer) {
                run.context.pending = nil
                try await setField(step.field ?? "", to: valid)
                return (.next(target: nil, result: WorkflowStepResult(outcome: "succeeded", values: ["answer": valid]), detail: nil), answer)
            }
            // An invalid answer asks once more; a second one ends the question.
            let asked = run.context.asked[step.id] ?? 1
            guard asked < 2, let channel = try await conversationChannel() else {
                run.context.pending = nil
                return (.next(target: nil, result: WorkflowStepResult(outcome: "invalid", values: ["answer": String(answer.prefix(200))]),
                              detail: "the answer was not valid"), answer)
            }
            let text = WorkflowVariables.render(step.retryText ?? step.text ?? "", values: values)
            run.context.afterMessageId = try await deliver(.text(text), channelId: channel.channelId)
            run.context.asked[step.id] = asked + 1
            return (.wait(kind: "reply", due: now.addingTimeInterval(timeout), detail: "asked again after an invalid answer"), answer)
        }
        guard let channel = try await conversationChannel() else { return (.fail("the contact has no conversation on a channel"), nil) }
        let text = WorkflowVariables.render(step.text ?? "", values: values)
        run.context.afterMessageId = try await deliver(.text(text), channelId: channel.channelId)
        run.context.pending = step.id
        run.context.asked[step.id] = 1
        return (.wait(kind: "reply", due: now.addingTimeInterval(timeout), detail: "question sent"), text)
    }

    /// The answer as stored, or nil when it is not valid: a rating is a whole number 1 to 5
    /// ("4", "4 stars", "4/5"); a text answer is any non-empty text.
    static func validAnswer(_ answer: String, kind: String?) -> String? {
        guard kind == "rating" else { return answer.isEmpty ? nil : String(answer.prefix(CustomFieldValidation.maxTextLength)) }
        let digits = answer.prefix { $0.isASCII && $0.isNumber }
        guard let rating = Int(digits), (1...5).contains(rating) else { return nil }
        let rest = answer.dropFirst(digits.count)
        // "45" or "4.5" is not a rating of 4.
        if let next = rest.first, next.isNumber || next == "." || next == "," { return nil }
        return String(rating)
    }

    /// Sends as the workflow on the conversation's channel, without reopening a closed conversation.
    func deliver(_ content: OutboundContent, channelId: Int64) async throws -> Int64 {
        var request = OutboundRequest(workspaceId: workspaceId, contactId: contactId, channelId: channelId, sender: .workflow,
                                      senderUserId: nil, content: content)
        request.reopens = false
        return try await services.outbound.send(request, at: services.clock.now()).message.id
    }
}
