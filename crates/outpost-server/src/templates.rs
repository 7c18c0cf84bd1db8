//! Reply templates: written by an admin (`template.put`, see `crate::settings`; the demo loads a
//! set in English and Chinese), sent to every client in pull pages like departments and users. A template's body holds
//! `{{customer.name}}`-style placeholders that the desktop fills in the ticket's language.

use outpost_core::model::Template;
use outpost_core::sync::Mutation;

use crate::db::WriteTx;

/// Adds or replaces a template (by id) as the server (`actor` `system`): checked and audited
/// like an admin's `template.put` (`crate::settings`); clients receive it with their next pull.
pub async fn put(tx: &mut WriteTx, template: &Template) -> anyhow::Result<()> {
    crate::settings::apply_as_server(tx, "system", &Mutation::PutTemplate(template.clone()))
        .await?;
    Ok(())
}

/// The demo's templates: the same replies in English and Chinese.
pub fn demo() -> Vec<Template> {
    use outpost_core::model::Category;
    let make =
        |n: u128, name: &str, language: &str, body: &str, categories: Vec<Category>| Template {
            id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 + n),
            name: name.into(),
            language: language.into(),
            body: body.into(),
            categories,
            changes: Default::default(),
            active: true,
        };
    vec![
        make(1, "Acknowledge", "en", "Hello {{customer.name}},\n\nThank you for contacting us about \"{{ticket.subject}}\" ({{ticket.key}}). We are looking into it and will update you shortly.\n\nBest regards,\n{{agent.name}}", Vec::new()),
        make(2, "确认收到", "zh-CN", "{{customer.name}}，您好：\n\n我们已收到您关于“{{ticket.subject}}”（{{ticket.key}}）的反馈，正在处理中，稍后会给您答复。\n\n{{agent.name}}", Vec::new()),
        make(3, "Password reset steps", "en", "Hello {{customer.name}},\n\nTo reset your password, open the app, choose \"Forgot password\" on the sign-in screen and follow the code sent to your registered phone. If the phone number no longer matches, reply to this message and we will verify your identity.\n\n{{agent.name}} ({{ticket.key}})", vec![Category::PASSWORD_RESET, Category::LOGIN_ANOMALY]),
        make(4, "重置密码步骤", "zh-CN", "{{customer.name}}，您好：\n\n请打开 App，在登录页点击“忘记密码”，按发送到注册手机的验证码操作即可重置。如手机号已不一致，请直接回复本消息，我们将为您核实身份。\n\n{{agent.name}}（{{ticket.key}}）", vec![Category::PASSWORD_RESET, Category::LOGIN_ANOMALY]),
        make(5, "Funds in transit", "en", "Hello {{customer.name}},\n\nWe checked your transfer: it has left our side and is being processed by the receiving bank, which usually takes up to two business days. We will follow up on {{ticket.key}} if it has not arrived by then.\n\n{{agent.name}}", vec![Category::FUNDS_NOT_ARRIVED]),
        make(6, "资金在途", "zh-CN", "{{customer.name}}，您好：\n\n我们已核实您的转账：款项已从我方发出，正在由收款银行处理，通常需要两个工作日。如届时仍未到账，我们会在 {{ticket.key}} 中继续跟进。\n\n{{agent.name}}", vec![Category::FUNDS_NOT_ARRIVED]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_templates_pass_the_core_checks() {
        for template in demo() {
            outpost_core::settings::check_template(&template)
                .unwrap_or_else(|e| panic!("{}: {e}", template.name));
        }
    }
}
