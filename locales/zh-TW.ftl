# Traditional Chinese, as Discord shows it to zh-TW users: the application
# commands and their descriptions. Everything not here comes from zh.ftl.

## The commands: what each does

summary-start = 打個招呼，看看機器人能做什麼。
summary-help = 列出所有指令，或說明某個指令。
summary-video = 根據提示詞（和隨附的圖片）生成影片。
summary-image = 根據提示詞生成圖片，或編輯隨附的圖片。
summary-remix = 在已生成的影片上再創作：給出任務 ID 或訊息連結。
summary-extend = 延長已完成的影片：給出任務 ID 或訊息連結。
summary-character = 從影片中儲存角色、查看或刪除角色；在提示詞中用 @名字 引用。
summary-tasks = 列出你最近的任務。
summary-status = 查看任務進度。
summary-cancel = 取消尚未完成的任務。
summary-retry = 重新執行失敗的任務。
summary-settings = 查看或修改預設影片選項和語言。
summary-quota = 查看今天剩餘的點數，以及一部影片的花費。
summary-stats = 管理員：任務、失敗、消耗的點數、最活躍的使用者和群組，以及服務狀態。
summary-ban = 管理員：從現在起拒絕某使用者的指令。
summary-unban = 管理員：解除對某使用者的封鎖。
summary-grant = 管理員：給某使用者增加今天的點數。

## Discord: the application commands

discord-command-video = 影片
discord-command-image = 圖片
discord-command-remix = 重繪
discord-command-extend = 延長
discord-command-character = 角色
discord-command-tasks = 任務
discord-command-status = 狀態
discord-command-cancel = 取消
discord-command-settings = 設定
discord-command-quota = 額度
discord-command-help = 幫助
discord-menu-remix = 重繪
discord-menu-character = 存為角色
discord-option-prompt = 提示詞
discord-option-image = 圖片
discord-option-video = 影片
discord-option-job = 任務
discord-option-aspect = 畫幅
discord-option-duration = 時長
discord-option-model = 模型
discord-option-hd = 高畫質
discord-option-count = 數量
discord-option-name = 名字
discord-option-at = 時間段
discord-option-language = 語言
discord-option-reset = 重置
discord-option-command = 指令
discord-option-add = 新增
discord-option-list = 列表
discord-option-remove = 刪除
discord-describe-video-prompt = 影片內容描述
discord-describe-video-image = 要動起來的圖片
discord-describe-image-prompt = 圖片內容描述
discord-describe-image-image = 要編輯的圖片
discord-describe-count = 數量，1 到 { $max }
discord-describe-remix-prompt = 要改成什麼樣
discord-describe-extend-prompt = 接下來發生什麼
discord-describe-extend-seconds = 要延長的秒數（預設 4）
discord-describe-video-ref = 任務 ID 或訊息連結（預設：你最新的影片）
discord-describe-aspect = 畫幅
discord-describe-duration = 時長（秒）
discord-describe-model = 模型
discord-describe-hd = 高畫質
discord-describe-character-name = 角色名：字母、數字或 _
discord-describe-character-add = 從你的影片中儲存角色
discord-describe-character-at = 起止秒數 開始,結束，最多相隔 3 秒（預設 0,3）
discord-describe-character-list = 查看你的角色
discord-describe-character-remove = 刪除你的一個角色
discord-describe-status-job = 任務 ID（預設：最新的）
discord-describe-cancel-job = 任務 ID（預設：最新未完成的）
discord-describe-language = 回覆語言
discord-describe-reset = 先恢復預設
discord-describe-help-command = 要說明的指令
discord-choice-landscape = 16:9 橫屏
discord-choice-portrait = 9:16 直屏
