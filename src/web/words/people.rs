//! What the helpers' and operators' pages say.

use super::words;

words!(People {
    helper_login_title: "Đăng nhập cho cán bộ hỗ trợ" / "Log in: community helpers",
    operator_login_title: "Đăng nhập cho quản lý" / "Log in: operators",
    login: "Số điện thoại hoặc email" / "Phone number or email",
    password: "Mật khẩu" / "Password",
    log_in: "Đăng nhập" / "Log in",
    helpers_only: "Trang này dành cho cán bộ hỗ trợ. Hãy đăng xuất rồi đăng nhập bằng tài khoản cán bộ."
        / "This page is for community helpers. Log out, then log in with a helper account.",
    operators_only: "Trang này dành cho quản lý. Hãy đăng xuất rồi đăng nhập bằng tài khoản quản lý."
        / "This page is for operators. Log out, then log in with an operator account.",
    households_title: "Hộ dân của nhóm" / "Your team's households",
    enrol_new: "Đăng ký hộ mới" / "Enrol a household",
    no_households: "Chưa có hộ nào ở các xã của nhóm. Bấm “Đăng ký hộ mới” khi gặp bà con."
        / "No households in your team's communes yet. Tap “Enrol a household” when you meet one.",
    act_for: "Làm thay" / "Act for",
    reset_pin: "Đặt lại mã PIN" / "Reset the PIN",
    revoked: "Hộ này đã thu hồi quyền làm thay của bạn." / "This household withdrew your right to act for them.",
    enrolled_by_me: "Bạn đăng ký" / "Enrolled by you",
    no_consent: "Hộ này chưa đồng ý cho nhóm làm thay. Nhờ bà con đồng ý trên ứng dụng của họ."
        / "This household has not agreed that your team acts for them. Ask them to agree in their app.",
    more: "Xem thêm" / "More",
    enrol_title: "Đăng ký hộ mới" / "Enrol a household",
    enrol_lead: "Làm cùng bà con: bà con tự gõ mã PIN và tự đánh dấu đồng ý."
        / "Do it together: the farmer types the PIN and ticks the consent themselves.",
    farmer_name: "Họ tên chủ hộ" / "Farmer's name",
    farmer_phone: "Số điện thoại của bà con" / "Farmer's phone number",
    commune: "Xã, phường" / "Commune",
    pin: "Mã PIN 6 số (bà con tự gõ)" / "6-digit PIN (typed by the farmer)",
    pin_hint: "Bà con dùng mã này để đăng nhập trên điện thoại của mình."
        / "The farmer logs in with it on their own phone.",
    consent: "Tôi đồng ý để nhóm hỗ trợ giúp tôi bán hàng và làm thay tôi trên Nông Sản. Mọi việc làm thay đều được ghi lại để tôi xem, và tôi có thể thu hồi bất cứ lúc nào."
        / "I agree that the community team may help me sell and act for me on Nông Sản. Everything done for me is recorded for me to see, and I can withdraw this at any time.",
    enrol: "Đăng ký" / "Enrol",
    enrolled: "Đã đăng ký cho" / "Enrolled:",
    enrolled_next: "Bà con đăng nhập bằng số điện thoại và mã PIN vừa gõ. Bạn có thể đăng bán giúp ngay."
        / "The farmer logs in with their phone and the PIN just typed. You can list produce for them now.",
    sell_for: "Đăng bán giúp" / "List produce for them",
    back_to_households: "Về danh sách hộ" / "Back to the households",
    reset_title: "Đặt lại mã PIN cho" / "Reset the PIN of",
    identity_checked: "Tôi đã gặp trực tiếp và xem giấy tờ của người này." / "I met this person and checked their ID.",
    new_pin: "Mã PIN mới (bà con tự gõ)" / "New PIN (typed by the farmer)",
    reset: "Đặt lại" / "Reset",
    pin_was_reset: "Đã đặt lại mã PIN. Bà con đăng nhập bằng mã mới."
        / "The PIN was reset. The farmer logs in with the new one.",
    operator_title: "Quản lý" / "Operations",
    new_team: "Tạo nhóm hỗ trợ" / "Create a community team",
    team_name: "Tên nhóm" / "Team name",
    ward_codes: "Mã các xã, phường nhóm phụ trách" / "Codes of the communes the team covers",
    ward_codes_hint: "Cách nhau bằng dấu phẩy, ví dụ: 26734, 26737." / "Separated by commas, e.g. 26734, 26737.",
    new_helper: "Tạo tài khoản cán bộ hỗ trợ" / "Create a helper account",
    team: "Nhóm" / "Team",
    no_team_yet: "Tạo một nhóm trước." / "Create a team first.",
    helper_name: "Họ tên cán bộ" / "Helper's name",
    phone: "Số điện thoại" / "Phone number",
    email: "Email (không bắt buộc)" / "Email (optional)",
    first_password: "Mật khẩu ban đầu (ít nhất 8 ký tự)" / "First password (at least 8 characters)",
    new_partner: "Thêm đối tác giao hàng" / "Add a delivery partner",
    partner_name: "Tên đối tác" / "Partner name",
    provinces: "Tỉnh, thành đối tác lấy hàng" / "Provinces the partner picks up in",
    new_key: "Cấp khóa API cho đối tác" / "Issue an API key to a partner",
    partner: "Đối tác" / "Partner",
    no_partner_yet: "Thêm một đối tác trước." / "Add a partner first.",
    create: "Tạo" / "Create",
    issue: "Cấp khóa" / "Issue the key",
    created_team: "Đã tạo nhóm" / "Team created:",
    created_helper: "Đã tạo tài khoản cán bộ" / "Helper account created:",
    created_partner: "Đã thêm đối tác" / "Partner added:",
    key_once: "Khóa API mới, chỉ hiện một lần này. Hãy gửi ngay cho đối tác qua kênh an toàn:"
        / "The new API key, shown this once only. Send it to the partner now, over a safe channel:",
    code: "mã" / "id",
    stop_title: "Tạm ngừng hoặc cho hoạt động lại" / "Suspend or reinstate",
    stop_lead: "Người hoặc đối tác bị tạm ngừng không dùng được Nông Sản; hàng của nông dân bị tạm ngừng không hiện cho người mua."
        / "Whoever is suspended cannot use Nong San; a suspended farmer's produce is hidden from buyers.",
    who_kind: "Loại" / "Kind",
    kind_helper: "Cán bộ hỗ trợ" / "Helper",
    kind_team: "Nhóm hỗ trợ" / "Team",
    kind_partner: "Đối tác" / "Partner",
    kind_farmer: "Nông dân" / "Farmer",
    which_id: "Mã số" / "Id",
    reason: "Lý do (bắt buộc khi tạm ngừng)" / "Reason (needed to suspend)",
    suspend: "Tạm ngừng" / "Suspend",
    reinstate: "Cho hoạt động lại" / "Reinstate",
    suspended_now: "Đã tạm ngừng" / "Suspended:",
    reinstated_now: "Đã cho hoạt động lại" / "Reinstated:",
});
