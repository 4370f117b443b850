//! Why a command was not done, with what the user needs to put it right.
//! The engine decides the refusal; `i18n` alone words it.

use std::time::Duration;

use crate::backend::Unsupported;
use crate::i18n::Msg;
use crate::media::BadImage;

/// A command refused, and the facts its answer names.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The user or the chat is not on the access lists.
    NotAllowed,
    /// Someone else's job, and the user is no admin here.
    NotYours,
    /// No job by that id (the text as given).
    NoSuchJob(String),
    /// The job made no video (an image, a character).
    NotAVideo(String),
    /// The job's video is not made yet.
    NotReady(String),
    /// A command about a video, with no video replied to or found.
    NeedVideoReply,
    /// A video someone posted that the service cannot fetch.
    NeedShareableVideo,
    /// `/cancel` with nothing named and nothing running.
    NothingRunning,
    /// `/status` or `/retry` with nothing named and no job yet.
    NoJobs,
    /// The job is over already.
    AlreadyFinished(String),
    /// The service cannot do what was asked.
    Unsupported(Unsupported),
    TooManyActive {
        max: usize,
    },
    QueueFull,
    /// The user's credits left today (`limit` with grants, `used` of it)
    /// do not cover the job's `cost`.
    QuotaExhausted {
        limit: u32,
        used: u32,
        cost: u32,
        resets_in: Duration,
    },
    /// The group's shared budget left today does not cover `cost`.
    ChatQuotaExhausted {
        limit: u32,
        used: u32,
        cost: u32,
        resets_in: Duration,
    },
    /// An operator banned the user.
    Banned,
    /// An operator's command from someone who is none.
    OperatorsOnly(crate::command::CommandName),
    /// An operator command as a reply to a message whose author is unknown.
    UnknownAuthor,
    /// A retried job's input image was swept after `days`.
    InputGone {
        days: u64,
    },
    /// An attachment that is no image, or one that failed its checks.
    BadImage {
        bad: BadImage,
        max_side: u32,
    },
    ImageTooLarge {
        max_mb: u64,
    },
    /// `@name` names none of the user's characters.
    NoCharacter(String),
    /// `@name` names a character still being made.
    CharacterNotReady(String),
    /// The user already has a character by that name.
    CharacterExists(String),
}

impl Refusal {
    /// What to tell the user.
    pub fn msg(&self) -> Msg<'_> {
        match self {
            Refusal::NotAllowed => Msg::NotAllowed,
            Refusal::NotYours => Msg::NotYours,
            Refusal::NoSuchJob(id) => Msg::NoSuchJob(id),
            Refusal::NotAVideo(id) => Msg::NotAVideo(id),
            Refusal::NotReady(id) => Msg::NotReady(id),
            Refusal::NeedVideoReply => Msg::NeedVideoReply,
            Refusal::NeedShareableVideo => Msg::NeedShareableVideo,
            Refusal::NothingRunning => Msg::NothingRunning,
            Refusal::NoJobs => Msg::NoTasks,
            Refusal::AlreadyFinished(id) => Msg::AlreadyFinished(id),
            Refusal::Unsupported(unsupported) => Msg::Unsupported(unsupported),
            Refusal::TooManyActive { max } => Msg::TooManyActive { max: *max },
            Refusal::QueueFull => Msg::QueueFull,
            Refusal::QuotaExhausted {
                limit,
                used,
                cost,
                resets_in,
            } => Msg::QuotaExhausted {
                limit: *limit,
                used: *used,
                cost: *cost,
                resets_in: *resets_in,
            },
            Refusal::ChatQuotaExhausted {
                limit,
                used,
                cost,
                resets_in,
            } => Msg::ChatQuotaExhausted {
                limit: *limit,
                used: *used,
                cost: *cost,
                resets_in: *resets_in,
            },
            Refusal::Banned => Msg::Banned,
            Refusal::OperatorsOnly(command) => Msg::OperatorsOnly(*command),
            Refusal::UnknownAuthor => Msg::UnknownAuthor,
            Refusal::InputGone { days } => Msg::InputGone { days: *days },
            Refusal::BadImage { bad, max_side } => match *bad {
                BadImage::NotAnImage => Msg::NotAnImage,
                BadImage::Unreadable => Msg::ImageUnreadable,
                BadImage::Dimensions { width, height } => Msg::ImageDimensions {
                    width,
                    height,
                    max_side: *max_side,
                },
            },
            Refusal::ImageTooLarge { max_mb } => Msg::ImageTooLarge { max_mb: *max_mb },
            Refusal::NoCharacter(name) => Msg::NoCharacter(name),
            Refusal::CharacterNotReady(name) => Msg::CharacterCreating(name),
            Refusal::CharacterExists(name) => Msg::CharacterExists(name),
        }
    }
}
