//! What Quire's mail says: every mail has a plain-text part and an HTML alternative, and a
//! mail with a link carries it whole in both (a mail client shows one or the other).

use html_escape::{encode_double_quoted_attribute as attribute, encode_text as text};

use crate::mail::Outgoing;

/// One mail: a greeting, paragraphs, maybe a link with its button label, and a closing line.
struct Draft<'a> {
    site: &'a str,
    subject: String,
    paragraphs: Vec<String>,
    link: Option<(&'a str, &'a str)>,
    closing: &'a str,
}

impl Draft<'_> {
    fn to(self, address: &str) -> Outgoing {
        let mut plain = String::from("Hello,\n\n");
        let mut html = String::from(
            "<!doctype html><html><body style=\"font-family: sans-serif\">\n<p>Hello,</p>\n",
        );
        for paragraph in &self.paragraphs {
            plain.push_str(paragraph);
            plain.push_str("\n\n");
            html.push_str(&format!("<p>{}</p>\n", text(paragraph)));
        }
        if let Some((url, label)) = self.link {
            plain.push_str(&format!("{label}:\n{url}\n\n"));
            html.push_str(&format!(
                "<p><a href=\"{}\">{}</a></p>\n<p style=\"font-size: small\">Or paste this address into your browser: {}</p>\n",
                attribute(url),
                text(label),
                text(url)
            ));
        }
        plain.push_str(self.closing);
        plain.push_str(&format!("\n\n-- \n{}\n", self.site));
        html.push_str(&format!(
            "<p>{}</p>\n<p>— {}</p>\n</body></html>\n",
            text(self.closing),
            text(self.site)
        ));
        Outgoing {
            to: address.to_owned(),
            subject: self.subject,
            text: plain,
            html,
        }
    }
}

const NOT_YOU: &str = "If this was not you, ignore this mail: nothing changes without the link.";
const WAS_IT_YOU: &str = "If this was not you, reset your password at once and check the \
                          applications allowed to use your account.";

pub fn verification(site: &str, to: &str, username: &str, link: &str) -> Outgoing {
    Draft {
        site,
        subject: format!("Confirm your e-mail address for {site}"),
        paragraphs: vec![format!(
            "Someone, hopefully you, gave this address to the {site} account \"{username}\". \
             Confirm that it is yours within 24 hours."
        )],
        link: Some((link, "Confirm my address")),
        closing: NOT_YOU,
    }
    .to(to)
}

pub fn password_reset(site: &str, to: &str, username: &str, link: &str) -> Outgoing {
    Draft {
        site,
        subject: format!("Reset your {site} password"),
        paragraphs: vec![format!(
            "Someone asked to reset the password of the {site} account \"{username}\". The \
             link works once, within an hour; using it signs the account out everywhere."
        )],
        link: Some((link, "Choose a new password")),
        closing: NOT_YOU,
    }
    .to(to)
}

pub fn claimed_address(site: &str, to: &str, username: &str, link: &str) -> Outgoing {
    Draft {
        site,
        subject: format!("Your address is used by a {site} account that never confirmed it"),
        paragraphs: vec![
            format!(
                "Someone asked to reset the password of the {site} account \"{username}\", \
                 which gave this address but never confirmed it. A password cannot be reset \
                 through an address that was never confirmed."
            ),
            "If you own this address and want to use it yourself, free it from that account \
             (the link works once, within an hour): you can then sign up or sign in with it. \
             If that account is yours, sign in and confirm the address from it instead."
                .to_owned(),
        ],
        link: Some((link, "Free my address")),
        closing: NOT_YOU,
    }
    .to(to)
}

pub fn password_changed(site: &str, to: &str, username: &str) -> Outgoing {
    Draft {
        site,
        subject: format!("Your {site} password was changed"),
        paragraphs: vec![format!(
            "The password of the {site} account \"{username}\" was just changed, and every \
             device signed in to it was signed out."
        )],
        link: None,
        closing: WAS_IT_YOU,
    }
    .to(to)
}

pub fn email_changed(site: &str, old: &str, username: &str, new: &str) -> Outgoing {
    Draft {
        site,
        subject: format!("Your {site} e-mail address was changed"),
        paragraphs: vec![format!(
            "The e-mail address of the {site} account \"{username}\" was changed from this \
             address to {new}. Mail about the account goes there from now on."
        )],
        link: None,
        closing: WAS_IT_YOU,
    }
    .to(old)
}

pub fn application_authorized(
    site: &str,
    to: &str,
    username: &str,
    application: &str,
    scopes: &str,
) -> Outgoing {
    Draft {
        site,
        subject: format!("{application} can now use your {site} account"),
        paragraphs: vec![format!(
            "The {site} account \"{username}\" allowed the application \"{application}\" to \
             use it ({scopes}). You can revoke that at any time from your account's list of \
             authorized applications."
        )],
        link: None,
        closing: WAS_IT_YOU,
    }
    .to(to)
}
