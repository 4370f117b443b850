# sorabot's words in English, the base language: every other language file
# holds each message here (a regional file such as zh-TW.ftl may hold only
# what differs from its language's file, zh.ftl). A message names the values
# the code gives it as { $name }; a setting it names (UPPER_SNAKE) is one of
# .env.example. Spaces at either end of a message are written {" "}.

## Lists

# This language's name in itself, for a language picker.
language-name = English

# Between the items of a list: "10, 15, 25".
list-separator = {", "}

## Buttons

label-remix = 🎬 Remix
label-save-character = 👤 Save as character
label-extend = ⏩ Extend
label-retry = 🔁 Retry
label-cancel = ✖ Cancel

## A wait as people say it

about-under-a-minute = under a minute
about-minutes = about { $minutes } min
about-hours = about { $hours } h

## Where a job stands, in its status message

# After a state: how long it may still take ($about is a wait as above).
state-eta = {" "}· ETA { $about }
state-queued = ⏳ Queued · position { $position }{ $eta }
state-starting = ⏳ Starting…
state-submitting = ⏳ Sending to the service…
state-submitted = ⏳ Waiting for the service{ $eta }
state-running = ⚙ Generating { $progress }{ $eta }
state-delivering = 📤 Uploading…
state-delivered = ✅ Done
state-failed = ❌ Failed
state-cancelled = ✖ Cancelled
retrying = ⚠ { $trouble } · retrying { $attempt }/{ $limit }
trouble-service = the service answered: { $text }
trouble-download = the download failed: { $text }
trouble-disk = the bot could not save the result to its disk
trouble-upload = the upload into this chat failed
# $time is minutes:seconds.
done-in = ✅ Done in { $time }
done-as-link = Sent as a link: the video is over this chat's upload limit.

## The commands: what each does, and its form

summary-start = Say hello and show what the bot can do.
summary-help = List the commands, or explain one.
summary-video = Make a video from a prompt, and from the images sent with it.
summary-image = Make images from a prompt, or edit the images sent with it.
summary-remix = Make a new video from one already made: reply to it or give its job id.
summary-extend = Make a finished video longer: reply to it, or give its job id.
summary-character = Save a character from a video, list yours, or remove one; use it as @NAME in a prompt.
summary-tasks = List your recent jobs.
summary-status = Show how a job is going.
summary-cancel = Stop a job that has not finished.
summary-retry = Run a failed job again.
summary-settings = Show or change your default video options and language.
summary-quota = Show how many credits you have left today, and what a video costs.
summary-stats = Operators: jobs, failures, credits spent, the busiest users and chats, the service's health.
summary-ban = Operators: refuse a user's commands from now on.
summary-unban = Operators: let a banned user in again.
summary-grant = Operators: give a user more credits for today.
usage-start = /start
usage-help = /help [command]
usage-video = /video PROMPT { $options }
usage-image = /image PROMPT [--n 1-4] [--size WxH]
usage-remix = /remix [JOBID] PROMPT { $options }
usage-extend = /extend [JOBID] [4|8|12] PROMPT
usage-character = /character add NAME [JOBID] [--at START,END] | /character list | /character remove NAME
usage-tasks = /tasks
usage-status = /status [JOBID]
usage-cancel = /cancel [JOBID]
usage-retry = /retry [JOBID]
usage-settings = /settings { $options } [--lang en|zh] [--reset]
usage-quota = /quota
usage-stats = /stats [today|7d]
usage-ban = /ban USER (platform:id, or as a reply to them)
usage-unban = /unban USER (platform:id, or as a reply to them)
usage-grant = /grant USER CREDITS (USER: platform:id, or reply to them)

## Help

# One line of the list of commands.
help-line = /{ $command } — { $summary }
# $commands is the list of commands, one help-line each.
welcome =
    Hi! I make videos with Sora.
    Try: /video a red fox running through snow --ar 16:9

    { $commands }
help =
    { $commands }

    Send a photo with /video in the caption to animate it; reply to one of my videos with /remix to change it; use @name in a prompt to cast a saved character.
help-for =
    /{ $command } — { $summary }
    { $usage }

## A command that could not be read

invalid-with-usage =
    ⚠ { $error }.
    Usage: { $usage }
invalid = ⚠ { $error }. Send /help for the list of commands.
parse-unknown-command = there is no command /{ $name }
parse-missing-prompt = /{ $command } needs a prompt
parse-unknown-flag = /{ $command } has no option --{ $flag }
parse-bad-flag-value = --{ $flag } { $value }: expected { $expected }
parse-missing-flag-value = --{ $flag } needs a value
parse-missing-target = /{ $command } needs a job: reply to its message or give its job id
parse-bad-character-name = "{ $name }" cannot name a character: use 1 to 32 letters, digits or _
parse-bad-timestamps = --at { $value }: expected START,END in seconds, in order, at most 3 s apart
parse-missing-user = /{ $command } needs a user: write platform:id (telegram:77, discord:6789), or reply to a message of theirs
parse-bad-credits = { $value } is not a number of credits: give a whole number from 1 to 100000
parse-bad-window = /stats covers today or 7d, not "{ $value }"
parse-missing-subcommand = /{ $command } needs one of: add, list, remove
# What the value of an option should have been.
expected-aspect = 16:9 or 9:16 (or landscape, portrait)
expected-seconds = whole seconds from 1 to 60, like 10 or 15s
expected-model = sora-2 or sora-2-pro
expected-count = a number from 1 to 4
expected-size = WIDTHxHEIGHT, 64 to 4096 each, like 1024x1024
expected-lang = en or zh
expected-switch = no value

## What this Sora service cannot do

unsupported = ⚠ { $reason }.
unsupported-feature = this Sora service does not offer { $feature }
unsupported-duration = a { $requested } s video is not available (choose { $allowed })
unsupported-empty-prompt = the prompt is empty
unsupported-prompt-too-long = the prompt has { $len } characters, more than { $max }
unsupported-too-many-images = { $given } images given, at most { $max } allowed
unsupported-image-count = { $requested } images asked for, from 1 to { $max } allowed
unsupported-image-size = the image size must be between 64 and 4096 pixels a side
unsupported-timestamps = the character's time range must be START,END with 0 <= START < END and at most 3 s long
feature-characters = characters
feature-remix = remix
feature-image-to-video = image to video
feature-images = image generation
feature-image-edits = image edits
feature-hd = HD
feature-pro = the pro model
feature-aspect-ratio = choosing the aspect ratio
feature-duration = choosing the duration
feature-watermark = the watermark setting
feature-remix-options = changing the framing, length or quality in a remix
feature-extend = making a finished video longer (/extend)

## Answers to commands

not-allowed = Sorry, this bot is not enabled for you or this chat. Ask the bot's operator to add it.
quota-exhausted = You have used all { $limit } of today's credits. The quota resets in { $resets_in }.
quota-short = This costs { $cost } credits and you have { $left } of today's { $limit } left. The quota resets in { $resets_in }.
chat-quota-exhausted = This chat's shared budget has { $left } of today's { $limit } credits left, and this costs { $cost }. It resets in { $resets_in }.
banned = You are banned from using this bot. Ask its operator if you think this is a mistake.
operators-only = Only the bot's operators may use /{ $command }.
unknown-author = I can't tell whose message that is. Name the user as platform:id instead (telegram:77, discord:6789).
too-many-active = You already have { $max } jobs in progress. Wait for one to finish, or /cancel one.
queue-full = The queue is full right now. Please try again in a few minutes.
no-such-job = I can't find job { $job }. /tasks lists your jobs.
not-a-video = Job { $job } did not make a video, so it can't be used here.
not-ready = Job { $job } has no finished video yet. Try again once it is delivered.
not-yours = Only the person who made this, or a chat admin, can do that.
need-video-reply = Reply to a video (one of mine, or one with a public link) with this command.
need-shareable-video = I can only make characters from my own videos here, or from a video with a public link. Reply to one of my videos.
not-an-image = That attachment is not an image. Attach a JPEG, PNG or WebP photo.
form-expired = That form has expired. Open it again from the video.
menu-needs-video-remix = Remix works on the videos I made: use it on one of mine.
menu-needs-video = Use this on a message with a video: one of mine, or one someone posted.
input-gone = The image of that job is no longer kept (images are kept { $days } days). Send the command again with the image attached.
image-too-large = That image is too large. Send one under { $max_mb } MB.
image-unreadable = That image cannot be read: the file is broken or not really a picture. Attach a JPEG, PNG or WebP photo.
image-dimensions = That image is { $width }×{ $height } pixels. Send one whose sides are between 1 and { $max_side } pixels.
no-character = You have no character named @{ $name }. /character list shows yours; /character add NAME saves one.
character-exists = You already have a character named @{ $name }. Choose another name, or /character remove { $name } first.
character-creating = Saving character @{ $name }…
character-ready = ✅ Character @{ $name } is ready. Use @{ $name } in a /video prompt.
character-failed = Character @{ $name } could not be saved.
character-removed = Character @{ $name } removed.
# $list is the names, one a line.
characters =
    Your characters:
    { $list }
no-characters = You have no characters yet. Reply to a video with /character add NAME --at 0,3
# After a character's name in the list: still being made, or failed.
character-saving = {" "}(saving…)
character-broken = {" "}(failed)
cancelled = Job { $job } cancelled. It does not count against your quota.
already-finished = Job { $job } has already finished.
quota = Today you have used { $used } of { $limit } credits; { $left } left. Resets in { $resets_in }.
quota-video-cost = A video with your settings costs { $cost } { $cost ->
    [one] credit
   *[other] credits
}.
quota-chat = This chat's shared budget: { $used } of { $limit } credits used today.
queued-cost = Cost: { $cost } { $cost ->
    [one] credit
   *[other] credits
}, given back if the job fails.
help-operators =
    Operators' commands:
    { $commands }
user-banned = { $user } is banned: their commands are refused from now on.
user-already-banned = { $user } was already banned.
user-unbanned = { $user } may use the bot again.
user-not-banned = { $user } was not banned.
user-granted = { $user } got { $credits } more credits for today ({ $total } granted today in all).
stats-title-today = 📊 Today (since 00:00 UTC)
stats-title-week = 📊 The last 7 days
stats-jobs = Jobs: { $total } ({ $states })
stats-failures = Failures: { $list }
stats-credits = Credits spent: { $credits }
stats-top-users = Top users: { $list }
stats-top-chats = Top chats: { $list }
stats-none = none
stats-service = Service ({ $name }): { $health }; { $in_flight } at the service, { $queued } waiting
stats-health-ok = answering
stats-health-balance = its balance is used up
stats-health-key = it refuses the bot's key
quota-unlimited = You have no daily limit. Jobs today: { $used }.
settings =
    Your defaults: { $settings }
    Change with /settings --ar 9:16 --dur 15 --model sora-2-pro --hd --lang zh, or /settings --reset
settings-saved = Saved. Your defaults: { $settings }
# The summary of settings when none is set.
service-defaults = the service's defaults
no-tasks = You have no jobs yet. Try /video a cat playing piano
nothing-running = You have no job running here. /tasks lists your jobs; /cancel JOBID cancels one.
ask-remix = What should change in { $job }? Reply to this message with your prompt.
ask-extend = How does { $job } go on? Reply to this message with your prompt (start with 8 or 12 for more than 4 seconds).
ask-character-name = Name the character from { $job }: reply to this message with a name (and --at START,END if not 0,3).
internal = Something went wrong on my side (ref: { $reference }). Your quota was not used. Please try again.

## Delivery

# $mb and $limit_mb are written as the code gives them (12.3, 10).
too-large-link = The video is { $mb } MB, over this chat's { $limit_mb } MB upload limit. Download it here: { $url }
too-large-own-link = The video is { $mb } MB, over this chat's { $limit_mb } MB upload limit, so here is a link to it, valid for { $hours } h: { $url }

## Why a job failed

failed = ❌ Failed: { $reason }. Your quota was not used.
failure-content-policy = the service's content policy refused it ({ $message }). Try rewording the prompt
failure-rejected = the service refused the request: { $message }
failure-generation = the generation failed on the service: { $message }. Retry may work
failure-timeout = the service did not finish within { $minutes } minutes
failure-unauthorized = the bot's key for the Sora service was refused; the operator has to fix it
failure-service-balance = the service's balance is used up; the operator has to top it up
failure-too-large = the result is too large ({ $mb } MB)
failure-delivery = the result could not be posted in this chat
failure-no-public-link = the video is { $mb } MB, over this chat's { $limit_mb } MB upload limit, and there is no public link to it. Ask again for a shorter video or one without --hd so that it fits, or ask the bot's operator to set PUBLIC_BASE_URL (with HTTP_LISTEN) so that the bot links large videos itself
failure-lost = the service's answer broke off, or it lost track of the job
failure-in-doubt = I was interrupted while asking the service to start it, so it may or may not have started; I will not send it twice on my own. Press Retry to ask again
failure-download = the result could not be downloaded from the service ({ $reason })
failure-disk = the bot's disk is full or not writable; the operator has been told
failure-gave-up = the service kept failing: { $message }
failure-not-media = the service sent something that is not the video or picture asked for (an error page?)
failure-refused-link = the service's result link points somewhere the bot does not fetch from; the operator has to check the service
failure-internal = something went wrong on my side

## The console

console-not-text = That line is not text (it is not valid UTF-8), so I did nothing with it. Send /help for the commands.
console-line-too-long = That line is longer than { $max_kb } KB, so I did nothing with it.
console-buttons = buttons: { $buttons }
console-answer-with = (answer with: >{ $id } YOUR TEXT)
console-deleted = (deleted)
console-saved-video = video: { $path }
console-saved-image = image: { $path }
console-attached = (you attached { $path })
console-cannot-read = cannot read { $path }: { $error }
console-stopping = { $signal }: stopping; unfinished jobs stay stored and resume on the next start
console-simulator-banner =
    ⚠  No SORA_BASE_URL set: using the built-in Sora SIMULATOR at { $url } (sample videos, ×{ $speed } speed).
       Set SORA_BASE_URL and SORA_API_KEY to use a real service.

## To the operators

alert-balance = ⚠ The Sora service says the bot's balance is used up: jobs fail (their users are refunded) until it is topped up.
alert-key = ⚠ The Sora service refuses the bot's API key: jobs fail (their users are refunded) until SORA_API_KEY is fixed.
# An alert, then what the service said.
alert-with-message =
    { $alert }
    The service said: { $message }
store-damaged =
    { $what }
    { $then }
    Owners of lost jobs were not told. See "When the store is damaged" in the README.
store-rolled-back = ⚠ sorabot's database is older than its last save (restored from an old copy, deleted, or cut short when it was recovered). The bot carries on with what it has.
store-unreadable = ⚠ sorabot's database could not be read. It was kept at { $moved_to } and the bot started with an empty one.
store-tally = At its last save it held { $jobs_then } unfinished job(s) and { $charges_then } quota charge(s); now { $jobs_now } and { $charges_now }: { $jobs_lost } job(s) and { $charges_lost } charge(s) lost.
store-tally-unknown = What it held before is unknown (there was no marker of its last save).

## Discord: the forms and the embed under a delivered file

modal-remix-title = Remix { $job }
modal-remix-prompt = What should change?
modal-extend-title = Extend { $job }
modal-extend-prompt = What happens next?
modal-extend-seconds = Seconds to add: 4, 8 or 12
modal-character-title = Save a character
modal-character-title-from = Save a character from { $job }
modal-character-name = Character name
modal-character-at = Seconds START,END (optional)
embed-model = Model
embed-duration = Duration
embed-job = Job
embed-seconds = { $seconds } s

## What a status message's headline says of a video's options

headline-seconds = { $seconds }s
headline-hd = HD

## Discord: the application commands. The names (discord-command-*,
## discord-option-*, discord-menu-*) are what Discord lists; in this base
## file they are the ones the bot reads back, so they stay as they are.

discord-command-video = video
discord-command-image = image
discord-command-remix = remix
discord-command-extend = extend
discord-command-character = character
discord-command-tasks = tasks
discord-command-status = status
discord-command-cancel = cancel
discord-command-settings = settings
discord-command-quota = quota
discord-command-help = help
discord-command-stats = stats
discord-command-ban = ban
discord-command-unban = unban
discord-command-grant = grant
discord-menu-remix = Remix
discord-menu-character = Save as character
discord-option-prompt = prompt
discord-option-image = image
discord-option-video = video
discord-option-job = job
discord-option-aspect = aspect
discord-option-duration = duration
discord-option-model = model
discord-option-hd = hd
discord-option-count = count
discord-option-name = name
discord-option-at = at
discord-option-language = language
discord-option-reset = reset
discord-option-command = command
discord-option-add = add
discord-option-window = window
discord-option-user = user
discord-option-credits = credits
discord-option-list = list
discord-option-remove = remove
discord-describe-video-prompt = What the video shows
discord-describe-video-image = A picture to animate
discord-describe-image-prompt = What the picture shows
discord-describe-image-image = A picture to edit
# $max is the most images the service makes at once.
discord-describe-count = How many, 1 to { $max }
discord-describe-remix-prompt = What should change
discord-describe-extend-prompt = What happens next
discord-describe-extend-seconds = Seconds to add (default 4)
discord-describe-video-ref = Job id or message link (default: your latest video)
discord-describe-aspect = Framing
discord-describe-duration = Length in seconds
discord-describe-model = Model
discord-describe-hd = High definition
discord-describe-character-name = Character name: letters, digits or _
discord-describe-character-add = Save a character from one of your videos
discord-describe-character-at = Seconds START,END, at most 3 apart (default 0,3)
discord-describe-character-list = List your characters
discord-describe-character-remove = Remove one of your characters
discord-describe-status-job = Job id (default: your latest)
discord-describe-cancel-job = Job id (default: your latest unfinished one)
discord-describe-language = Reply language
discord-describe-reset = Back to the defaults first
discord-describe-help-command = A command to explain
discord-describe-stats-window = Today (the default) or the last 7 days
discord-describe-operator-user = The user as platform:id, e.g. discord:6789 or telegram:77
discord-describe-grant-credits = Credits to add for today
discord-choice-landscape = 16:9 landscape
discord-choice-portrait = 9:16 portrait
discord-choice-seconds = { $seconds } s
discord-choice-today = Today
discord-choice-week = The last 7 days

## Reasons the engine words when it stores them (in the job's language).
download-deadline = the download did not finish within { $secs } s
download-too-slow = the download was too slow ({ $bytes } bytes in { $secs } s)
source-gone = the source video is no longer known to the service
cancelled-by-service = the service cancelled it
service-no-answer = nothing usable (it may be down)
# A line of /character list: the name, the span cut, then character-saving or character-broken.
character-line = @{ $name } · { $start }–{ $end } s{ $state }
# The name of a group's anonymous administrator, when the group has no title.
anonymous-admin = Anonymous admin
