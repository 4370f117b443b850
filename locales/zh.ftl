# sorabot's words in (simplified) Chinese: every message of en.ftl, in the
# same order. zh-TW.ftl holds the traditional Chinese that Discord shows to
# zh-TW users, and falls back to this file for the rest.

## Lists

language-name = 中文
list-separator = 、

## Buttons

label-remix = 🎬 重绘
label-save-character = 👤 存为角色
label-extend = ⏩ 延长
label-retry = 🔁 重试
label-cancel = ✖ 取消

## A wait as people say it

about-under-a-minute = 不到 1 分钟
about-minutes = 约 { $minutes } 分钟
about-hours = 约 { $hours } 小时

## Where a job stands, in its status message

state-eta = {" "}· 预计{ $about }
state-queued = ⏳ 排队中 · 第 { $position } 位{ $eta }
state-starting = ⏳ 即将开始…
state-submitting = ⏳ 正在提交给服务…
state-submitted = ⏳ 等待服务开始{ $eta }
state-running = ⚙ 生成中 { $progress }{ $eta }
state-delivering = 📤 正在上传…
state-delivered = ✅ 完成
state-failed = ❌ 失败
state-cancelled = ✖ 已取消
retrying = ⚠ { $trouble } · 重试 { $attempt }/{ $limit }
trouble-service = 服务返回：{ $text }
trouble-download = 下载失败：{ $text }
trouble-disk = 机器人无法把结果保存到磁盘
trouble-upload = 上传到此聊天失败
done-in = ✅ 完成，用时 { $time }
done-as-link = 已以链接发送：视频超过本聊天的上传上限。

## The commands: what each does, and its form

summary-start = 打个招呼，看看机器人能做什么。
summary-help = 列出所有命令，或说明某个命令。
summary-video = 根据提示词（和随附的图片）生成视频。
summary-image = 根据提示词生成图片，或编辑随附的图片。
summary-remix = 在已生成的视频上再创作：回复该视频，或给出任务 ID。
summary-extend = 延长已完成的视频：回复该视频，或给出任务 ID。
summary-character = 从视频中保存角色、查看或删除角色；在提示词中用 @名字 引用。
summary-tasks = 列出你最近的任务。
summary-status = 查看任务进度。
summary-cancel = 取消尚未完成的任务。
summary-retry = 重新运行失败的任务。
summary-settings = 查看或修改默认视频选项和语言。
summary-quota = 查看今天剩余的点数，以及一个视频的花费。
summary-stats = 管理员：任务、失败、消耗的点数、最活跃的用户和群，以及服务状态。
summary-ban = 管理员：从现在起拒绝某用户的命令。
summary-unban = 管理员：解除对某用户的封禁。
summary-grant = 管理员：给某用户增加今天的点数。
usage-start = /start
usage-help = /help [命令]
usage-video = /video 提示词 { $options }
usage-image = /image 提示词 [--n 1-4] [--size 宽x高]
usage-remix = /remix [任务ID] 提示词 { $options }
usage-extend = /extend [任务ID] [4|8|12] 提示词
usage-character = /character add 名字 [任务ID] [--at 开始,结束] | /character list | /character remove 名字
usage-tasks = /tasks
usage-status = /status [任务ID]
usage-cancel = /cancel [任务ID]
usage-retry = /retry [任务ID]
usage-settings = /settings { $options } [--lang en|zh] [--reset]
usage-quota = /quota
usage-stats = /stats [today|7d]
usage-ban = /ban 用户（platform:id，或回复其消息）
usage-unban = /unban 用户（platform:id，或回复其消息）
usage-grant = /grant 用户 点数（用户：platform:id，或回复其消息）

## Help

help-line = /{ $command } — { $summary }
welcome =
    你好！我用 Sora 生成视频。
    试试：/video 一只红狐狸在雪地里奔跑 --ar 16:9

    { $commands }
help =
    { $commands }

    发送图片并在说明里写 /video 可让图片动起来；回复我的视频并发送 /remix 可修改它；在提示词里用 @名字 可让已保存的角色出演。
help-for =
    /{ $command } — { $summary }
    { $usage }

## A command that could not be read

invalid-with-usage =
    ⚠ { $error }。
    用法：{ $usage }
invalid = ⚠ { $error }。发送 /help 查看全部命令。
parse-unknown-command = 没有 /{ $name } 这个命令
parse-missing-prompt = /{ $command } 需要提示词
parse-unknown-flag = /{ $command } 没有 --{ $flag } 选项
parse-bad-flag-value = --{ $flag } { $value }：应为 { $expected }
parse-missing-flag-value = --{ $flag } 需要一个值
parse-missing-target = /{ $command } 需要指定任务：回复该任务的消息，或写上任务编号
parse-bad-character-name = “{ $name }”不能作为角色名：请用 1 到 32 个字母、数字或 _
parse-bad-timestamps = --at { $value }：应为 开始,结束（秒），按顺序，最长 3 秒
parse-missing-user = /{ $command } 需要指定用户：写成 platform:id（telegram:77、discord:6789），或回复其消息
parse-bad-credits = { $value } 不是点数：请给出 1 到 100000 的整数
parse-bad-window = /stats 只统计 today 或 7d，不支持“{ $value }”
parse-missing-subcommand = /{ $command } 需要子命令：add、list 或 remove
expected-aspect = 16:9 或 9:16（或 landscape、portrait）
expected-seconds = 1 到 60 的整数秒，如 10 或 15s
expected-model = sora-2 或 sora-2-pro
expected-count = 1 到 4 的数字
expected-size = 宽x高，每边 64 到 4096，如 1024x1024
expected-lang = en 或 zh
expected-switch = 不带值

## What this Sora service cannot do

unsupported = ⚠ { $reason }。
unsupported-feature = 当前 Sora 服务不支持{ $feature }
unsupported-duration = 不支持 { $requested } 秒的视频（可选：{ $allowed }）
unsupported-empty-prompt = 提示词为空
unsupported-prompt-too-long = 提示词有 { $len } 个字符，超过上限 { $max }
unsupported-too-many-images = 给了 { $given } 张图片，最多 { $max } 张
unsupported-image-count = 请求 { $requested } 张图片，只能 1 到 { $max } 张
unsupported-image-size = 图片尺寸每边须在 64 到 4096 像素之间
unsupported-timestamps = 角色时间范围须为 开始,结束，且 0 ≤ 开始 < 结束，最长 3 秒
feature-characters = 角色
feature-remix = 重绘
feature-image-to-video = 图生视频
feature-images = 图片生成
feature-image-edits = 图片编辑
feature-hd = 高清
feature-pro = pro 模型
feature-aspect-ratio = 选择画面比例
feature-duration = 选择时长
feature-watermark = 水印设置
feature-remix-options = 在重绘中修改比例、时长或画质
feature-extend = 延长已完成的视频（/extend）

## Answers to commands

not-allowed = 抱歉，你或本群尚未开通此机器人。请联系机器人管理员添加。
quota-exhausted = 你今天的 { $limit } 点额度已用完，{ $resets_in }后重置。
quota-short = 这需要 { $cost } 点，你今天的 { $limit } 点只剩 { $left } 点，{ $resets_in }后重置。
chat-quota-exhausted = 本群今天共享的 { $limit } 点只剩 { $left } 点，而这需要 { $cost } 点，{ $resets_in }后重置。
banned = 你已被禁止使用此机器人。如认为有误，请联系机器人管理员。
operators-only = 只有机器人管理员可以使用 /{ $command }。
unknown-author = 我无法判断那是谁的消息。请改用 platform:id 指定用户（telegram:77、discord:6789）。
too-many-active = 你已有 { $max } 个任务在进行中。请等其中一个完成，或用 /cancel 取消。
queue-full = 当前排队已满，请几分钟后再试。
no-such-job = 找不到任务 { $job }。/tasks 可查看你的任务。
not-a-video = 任务 { $job } 没有生成视频，不能用于此操作。
not-ready = 任务 { $job } 的视频还没有完成，交付后再试。
not-yours = 只有创建者或群管理员可以这样做。
need-video-reply = 请用此命令回复一个视频（我的视频，或带公开链接的视频）。
need-shareable-video = 这里只能从我生成的视频或带公开链接的视频创建角色。请回复我的视频。
not-an-image = 附件不是图片。请附上 JPEG、PNG 或 WebP 图片。
form-expired = 表单已过期。请从视频上重新打开。
menu-needs-video-remix = 重绘只能用于我生成的视频：请在我的视频上使用。
menu-needs-video = 请在带视频的消息上使用：我的视频，或别人发的视频。
input-gone = 该任务的图片已不再保留（图片保留 { $days } 天）。请附上图片重新发送命令。
image-too-large = 图片太大，请发送小于 { $max_mb } MB 的图片。
image-unreadable = 无法读取这张图片：文件已损坏或并不是真正的图片。请附上 JPEG、PNG 或 WebP 图片。
image-dimensions = 这张图片为 { $width }×{ $height } 像素。请发送边长在 1 到 { $max_side } 像素之间的图片。
no-character = 你没有名为 @{ $name } 的角色。/character list 查看你的角色；/character add 名字 可保存角色。
character-exists = 你已有名为 @{ $name } 的角色。请换个名字，或先 /character remove { $name }。
character-creating = 正在保存角色 @{ $name }…
character-ready = ✅ 角色 @{ $name } 已就绪。在 /video 提示词中使用 @{ $name }。
character-failed = 角色 @{ $name } 保存失败。
character-removed = 已删除角色 @{ $name }。
characters =
    你的角色：
    { $list }
no-characters = 你还没有角色。回复一个视频并发送 /character add 名字 --at 0,3
character-saving = （保存中…）
character-broken = （失败）
cancelled = 任务 { $job } 已取消，不计入额度。
already-finished = 任务 { $job } 已经结束。
quota = 今天已用 { $used }/{ $limit } 点，剩余 { $left } 点，{ $resets_in }后重置。
quota-video-cost = 按你的设置，一个视频需要 { $cost } 点。
quota-chat = 本群今天的共享额度：已用 { $used }/{ $limit } 点。
queued-cost = 花费：{ $cost } 点，任务失败则退还。
help-operators =
    管理员命令：
    { $commands }
user-banned = 已封禁 { $user }：从现在起拒绝其命令。
user-already-banned = { $user } 已经被封禁。
user-unbanned = { $user } 可以再次使用机器人。
user-not-banned = { $user } 没有被封禁。
user-granted = 已给 { $user } 增加今天的 { $credits } 点（今天共赠送 { $total } 点）。
stats-title-today = 📊 今天（自 UTC 0 点起）
stats-title-week = 📊 最近 7 天
stats-jobs = 任务：{ $total }（{ $states }）
stats-failures = 失败：{ $list }
stats-credits = 消耗点数：{ $credits }
stats-top-users = 最活跃用户：{ $list }
stats-top-chats = 最活跃的群：{ $list }
stats-none = 无
stats-service = 服务（{ $name }）：{ $health }；{ $in_flight } 个在服务端，{ $queued } 个排队
stats-health-ok = 正常应答
stats-health-balance = 余额已用完
stats-health-key = 拒绝了机器人的密钥
quota-unlimited = 你没有每日限额。今天的任务数：{ $used }。
settings =
    你的默认设置：{ $settings }
    修改：/settings --ar 9:16 --dur 15 --model sora-2-pro --hd --lang en，或 /settings --reset
settings-saved = 已保存。你的默认设置：{ $settings }
service-defaults = 服务默认值
no-tasks = 你还没有任务。试试 /video 一只弹钢琴的猫
nothing-running = 你在这里没有进行中的任务。/tasks 可查看你的任务；/cancel 任务ID 可取消。
ask-remix = { $job } 要改成什么样？请回复这条消息写下提示词。
ask-extend = { $job } 接下来怎样发展？请回复这条消息写下提示词（以 8 或 12 开头可延长多于 4 秒）。
ask-character-name = 给 { $job } 中的角色起个名字：请回复这条消息（如不是 0,3 秒，可加 --at 开始,结束）。
internal = 我这边出了点问题（编号：{ $reference }）。未扣除额度，请重试。

## Delivery

too-large-link = 视频大小 { $mb } MB，超过本聊天 { $limit_mb } MB 的上传上限。请在此下载：{ $url }
too-large-own-link = 视频大小 { $mb } MB，超过本聊天 { $limit_mb } MB 的上传上限，请通过此链接观看（{ $hours } 小时内有效）：{ $url }

## Why a job failed

failed = ❌ 失败：{ $reason }。未扣除额度。
failure-content-policy = 内容未通过服务的审核（{ $message }），请修改提示词
failure-rejected = 服务拒绝了请求：{ $message }
failure-generation = 服务端生成失败：{ $message }，可以重试
failure-timeout = 服务在 { $minutes } 分钟内没有完成
failure-unauthorized = 机器人的 Sora 密钥被拒绝，需要管理员处理
failure-service-balance = 服务的余额已用完，需要管理员充值
failure-too-large = 结果文件太大（{ $mb } MB）
failure-delivery = 结果无法发送到此聊天
failure-no-public-link = 视频大小 { $mb } MB，超过本聊天 { $limit_mb } MB 的上传上限，且没有可公开访问的链接。请重新生成更短或不带 --hd 的视频，让文件能够上传；或请机器人管理员设置 PUBLIC_BASE_URL（并设置 HTTP_LISTEN），让机器人自己提供大视频的链接
failure-lost = 服务的回答中断了，或服务丢失了该任务
failure-in-doubt = 向服务提交时被中断，无法确定任务是否已开始；为避免重复扣费不会自动重发。如需再试请点“重试”
failure-download = 无法从服务下载结果（{ $reason }）
failure-disk = 机器人的磁盘已满或无法写入，已通知管理员
failure-gave-up = 服务持续失败：{ $message }
failure-not-media = 服务返回的内容不是所要的视频或图片（可能是错误页面）
failure-refused-link = 服务给出的结果链接指向机器人不会访问的地址，需要管理员检查服务
failure-internal = 我这边出了点问题

## The console

console-not-text = 这一行不是文本（不是有效的 UTF-8），已忽略。发送 /help 查看命令。
console-line-too-long = 这一行超过 { $max_kb } KB，已忽略。
console-buttons = 按钮：{ $buttons }
console-answer-with = （回复方式：>{ $id } 你的文字）
console-deleted = （已删除）
console-saved-video = 视频：{ $path }
console-saved-image = 图片：{ $path }
console-attached = （你附上了 { $path }）
console-cannot-read = 无法读取 { $path }：{ $error }
console-stopping = { $signal }：正在停止；未完成的任务已保存，下次启动时继续
console-simulator-banner =
    ⚠  未设置 SORA_BASE_URL：正在使用内置的 Sora 模拟器 { $url }（示例视频，×{ $speed } 倍速）。
       设置 SORA_BASE_URL 和 SORA_API_KEY 即可使用真实服务。

## To the operators

alert-balance = ⚠ Sora 服务表示机器人的余额已用完：充值前任务都会失败（已为用户退还额度）。
alert-key = ⚠ Sora 服务拒绝了机器人的 API 密钥：修正 SORA_API_KEY 前任务都会失败（已为用户退还额度）。
alert-with-message =
    { $alert }
    服务原话：{ $message }
store-damaged =
    { $what }
    { $then }
    丢失任务的用户未收到通知。请参阅 README 中的 "When the store is damaged"。
store-rolled-back = ⚠ sorabot 的数据库比上次保存时旧（从旧副本恢复、被删除，或恢复时被截断）。机器人将用现有数据继续运行。
store-unreadable = ⚠ sorabot 的数据库无法读取。已保留在 { $moved_to }，机器人已用一个空数据库启动。
store-tally = 上次保存时有 { $jobs_then } 个未完成任务、{ $charges_then } 次额度扣除；现在是 { $jobs_now } 和 { $charges_now }：丢失 { $jobs_lost } 个任务、{ $charges_lost } 次扣除。
store-tally-unknown = 之前保存的内容未知（没有上次保存的标记）。

## Discord: the forms and the embed under a delivered file

modal-remix-title = 重绘 { $job }
modal-remix-prompt = 要改成什么样？
modal-extend-title = 延长 { $job }
modal-extend-prompt = 接下来发生什么？
modal-extend-seconds = 要延长的秒数：4、8 或 12
modal-character-title = 保存角色
modal-character-title-from = 从 { $job } 保存角色
modal-character-name = 角色名
modal-character-at = 起止秒数 开始,结束（可选）
embed-model = 模型
embed-duration = 时长
embed-job = 任务
embed-seconds = { $seconds } 秒

## What a status message's headline says of a video's options

headline-seconds = { $seconds }s
headline-hd = HD

## Discord: the application commands (zh-CN)

discord-command-video = 视频
discord-command-image = 图片
discord-command-remix = 重绘
discord-command-extend = 延长
discord-command-character = 角色
discord-command-tasks = 任务
discord-command-status = 状态
discord-command-cancel = 取消
discord-command-settings = 设置
discord-command-quota = 额度
discord-command-help = 帮助
discord-command-stats = 统计
discord-command-ban = 封禁
discord-command-unban = 解封
discord-command-grant = 赠送
discord-menu-remix = 重绘
discord-menu-character = 存为角色
discord-option-prompt = 提示词
discord-option-image = 图片
discord-option-video = 视频
discord-option-job = 任务
discord-option-aspect = 画幅
discord-option-duration = 时长
discord-option-model = 模型
discord-option-hd = 高清
discord-option-count = 数量
discord-option-name = 名字
discord-option-at = 时间段
discord-option-language = 语言
discord-option-reset = 重置
discord-option-command = 命令
discord-option-add = 添加
discord-option-window = 时段
discord-option-user = 用户
discord-option-credits = 点数
discord-option-list = 列表
discord-option-remove = 删除
discord-describe-video-prompt = 视频内容描述
discord-describe-video-image = 要动起来的图片
discord-describe-image-prompt = 图片内容描述
discord-describe-image-image = 要编辑的图片
discord-describe-count = 数量，1 到 { $max }
discord-describe-remix-prompt = 要改成什么样
discord-describe-extend-prompt = 接下来发生什么
discord-describe-extend-seconds = 要延长的秒数（默认 4）
discord-describe-video-ref = 任务 ID 或消息链接（默认：你最新的视频）
discord-describe-aspect = 画幅
discord-describe-duration = 时长（秒）
discord-describe-model = 模型
discord-describe-hd = 高清
discord-describe-character-name = 角色名：字母、数字或 _
discord-describe-character-add = 从你的视频中保存角色
discord-describe-character-at = 起止秒数 开始,结束，最多相隔 3 秒（默认 0,3）
discord-describe-character-list = 查看你的角色
discord-describe-character-remove = 删除你的一个角色
discord-describe-status-job = 任务 ID（默认：最新的）
discord-describe-cancel-job = 任务 ID（默认：最新未完成的）
discord-describe-language = 回复语言
discord-describe-reset = 先恢复默认
discord-describe-help-command = 要说明的命令
discord-describe-stats-window = 今天（默认）或最近 7 天
discord-describe-operator-user = 用户，写成 platform:id，如 discord:6789 或 telegram:77
discord-describe-grant-credits = 今天增加的点数
discord-choice-landscape = 16:9 横屏
discord-choice-portrait = 9:16 竖屏
discord-choice-seconds = { $seconds } 秒
discord-choice-today = 今天
discord-choice-week = 最近 7 天

## 引擎在保存时按任务语言写下的原因。
download-deadline = 下载未在 { $secs } 秒内完成
download-too-slow = 下载太慢（{ $secs } 秒内仅 { $bytes } 字节）
source-gone = 服务已不认识原视频
cancelled-by-service = 服务取消了该任务
service-no-answer = 无可用内容（可能暂时不可用）
character-line = @{ $name } · { $start }–{ $end } 秒{ $state }
# The name of a group's anonymous administrator, when the group has no title.
anonymous-admin = 匿名管理员
