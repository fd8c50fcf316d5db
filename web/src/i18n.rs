//! Interface texts in Vietnamese (the default) and English, chosen by a remembered switch.
//!
//! Every text is a [`Key`]; [`text`] is one exhaustive `match`, so a key without both languages
//! does not compile. The choice is kept in `localStorage` under [`STORAGE_KEY`].

use leptos::prelude::*;

/// Where the chosen language is remembered.
pub const STORAGE_KEY: &str = "tramyte.lang";

/// An interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Tiếng Việt, the default.
    #[default]
    Vi,
    En,
}

impl Lang {
    /// The BCP 47 tag, for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// Reads a stored tag; anything unknown is Vietnamese.
    pub fn from_tag(tag: &str) -> Lang {
        match tag {
            "en" => Lang::En,
            _ => Lang::Vi,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }
}

/// Every text of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    AppName,
    AppTagline,
    SwitchLanguage,
    SwitchLanguageLabel,
    Online,
    Offline,
    UpdateAvailable,
    Reload,
    StorageNotPersistent,
    HomeTitle,
    HomeIntro,
    StepSelfAssess,
    StepAppraise,
    StepRecognize,
    OfflineReady,
    NotFoundTitle,
    BackHome,
    MainNavigation,
}

/// The text of `key` in `lang`.
pub fn text(lang: Lang, key: Key) -> &'static str {
    use Key::*;
    match (key, lang) {
        (AppName, _) => "tramyte",
        (AppTagline, Lang::Vi) => "Đánh giá Bộ tiêu chí quốc gia về y tế xã",
        (AppTagline, Lang::En) => "National criteria for commune health",
        (SwitchLanguage, Lang::Vi) => "English",
        (SwitchLanguage, Lang::En) => "Tiếng Việt",
        (SwitchLanguageLabel, Lang::Vi) => "Chuyển sang tiếng Anh",
        (SwitchLanguageLabel, Lang::En) => "Switch to Vietnamese",
        (Online, Lang::Vi) => "Trực tuyến",
        (Online, Lang::En) => "Online",
        (Offline, Lang::Vi) => "Ngoại tuyến",
        (Offline, Lang::En) => "Offline",
        (UpdateAvailable, Lang::Vi) => "Có phiên bản mới.",
        (UpdateAvailable, Lang::En) => "A new version is available.",
        (Reload, Lang::Vi) => "Tải lại",
        (Reload, Lang::En) => "Reload",
        (StorageNotPersistent, Lang::Vi) => {
            "Trình duyệt chưa cho phép lưu trữ lâu dài: dữ liệu chưa đồng bộ có thể bị xoá khi máy thiếu dung lượng. Hãy cài ứng dụng lên màn hình chính."
        }
        (StorageNotPersistent, Lang::En) => {
            "The browser has not granted persistent storage: unsynced data may be cleared when the device runs low on space. Install the app to the home screen."
        }
        (HomeTitle, Lang::Vi) => "Trạm Y tế xã",
        (HomeTitle, Lang::En) => "Commune health station",
        (HomeIntro, Lang::Vi) => {
            "Tự đánh giá theo Bộ tiêu chí quốc gia về y tế xã, cùng nhau và cả khi không có mạng."
        }
        (HomeIntro, Lang::En) => {
            "Self-assess against the national criteria for commune health, together and offline."
        }
        (StepSelfAssess, Lang::Vi) => "Trạm y tế tự đánh giá từng chỉ tiêu, kèm minh chứng",
        (StepSelfAssess, Lang::En) => "The station self-assesses each indicator, with evidence",
        (StepAppraise, Lang::Vi) => "Đơn vị thẩm định chấm điểm, trả lại hoặc phê duyệt",
        (StepAppraise, Lang::En) => "The reviewing body appraises, returns or approves",
        (StepRecognize, Lang::Vi) => "UBND tỉnh công nhận xã đạt tiêu chí",
        (StepRecognize, Lang::En) => "The province recognizes the commune",
        (OfflineReady, Lang::Vi) => "Ứng dụng vẫn mở được khi không có mạng.",
        (OfflineReady, Lang::En) => "The app opens without a network.",
        (NotFoundTitle, Lang::Vi) => "Không tìm thấy trang",
        (NotFoundTitle, Lang::En) => "Page not found",
        (BackHome, Lang::Vi) => "Về trang chính",
        (BackHome, Lang::En) => "Back to the start",
        (MainNavigation, Lang::Vi) => "Điều hướng chính",
        (MainNavigation, Lang::En) => "Main navigation",
    }
}

/// A text of the interface: a key of the catalog or a pair given inline.
#[derive(Debug, Clone, Copy)]
enum Words {
    Key(Key),
    Pair(&'static str, &'static str),
}

/// The current language, shared through Leptos context.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    lang: RwSignal<Lang>,
}

impl I18n {
    /// The current language (reactive).
    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    /// The text of `key` in the current language (reactive).
    pub fn t(&self, key: Key) -> &'static str {
        text(self.lang.get(), key)
    }

    /// A text given inline in both languages (for texts used in one place); the pair makes a
    /// missing language as impossible as the exhaustive [`text`] match does.
    pub fn pick(&self, vi: &'static str, en: &'static str) -> &'static str {
        match self.lang.get() {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }

    /// [`t`](Self::t) as a reactive text for a view. Every reactive text of the app (this and
    /// [`pick_fn`](Self::pick_fn)) is a closure of one type, so the view code that renders it is
    /// compiled once rather than once per text, which keeps the wasm small.
    pub fn t_fn(self, key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        self.reactive(Words::Key(key))
    }

    /// [`pick`](Self::pick) as a reactive text for a view (see [`t_fn`](Self::t_fn)).
    pub fn pick_fn(
        self,
        vi: &'static str,
        en: &'static str,
    ) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        self.reactive(Words::Pair(vi, en))
    }

    fn reactive(self, words: Words) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || match words {
            Words::Key(key) => self.t(key),
            Words::Pair(vi, en) => self.pick(vi, en),
        }
    }

    /// A number as people write it in the current language (reactive): `6,5` in Vietnamese,
    /// `6.5` in English.
    pub fn num(&self, value: impl std::fmt::Display) -> String {
        decimal(self.lang.get(), &value.to_string())
    }

    /// Changes the language, remembers it and updates `<html lang>`.
    pub fn set(&self, lang: Lang) {
        self.lang.set(lang);
        crate::platform::store_local(STORAGE_KEY, lang.tag());
        crate::platform::set_document_lang(lang.tag());
    }
}

/// A number written with a dot (as Rust formats it) in `lang`'s way: the decimal comma in
/// Vietnamese. Only a dot between digits is a decimal point.
pub fn decimal(lang: Lang, text: &str) -> String {
    if lang == Lang::En {
        return text.to_owned();
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let between_digits = i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if *c == '.' && between_digits { ',' } else { *c }
        })
        .collect()
}

/// Provides [`I18n`] to the component tree, starting from the remembered language.
pub fn provide_i18n() -> I18n {
    let lang = crate::platform::load_local(STORAGE_KEY)
        .map(|tag| Lang::from_tag(&tag))
        .unwrap_or_default();
    crate::platform::set_document_lang(lang.tag());
    let i18n = I18n {
        lang: RwSignal::new(lang),
    };
    provide_context(i18n);
    i18n
}

/// The [`I18n`] provided by the app.
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| I18n {
        lang: RwSignal::new(Lang::default()),
    })
}

// Run by `wasm-bindgen-test-runner` in headless Chromium (`cargo xtask test`).
#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn vietnamese_numbers_take_the_decimal_comma() {
        assert_eq!(decimal(Lang::Vi, "6.5"), "6,5");
        assert_eq!(decimal(Lang::Vi, "93.5/100"), "93,5/100");
        assert_eq!(decimal(Lang::Vi, "12"), "12");
        assert_eq!(decimal(Lang::Vi, "TC1. Tên"), "TC1. Tên");
        assert_eq!(decimal(Lang::En, "6.5"), "6.5");
    }

    #[wasm_bindgen_test]
    fn vietnamese_is_the_default_and_unknown_tags_fall_back_to_it() {
        assert_eq!(Lang::default(), Lang::Vi);
        assert_eq!(Lang::from_tag("fr"), Lang::Vi);
        assert_eq!(Lang::from_tag("en"), Lang::En);
    }

    #[wasm_bindgen_test]
    fn vietnamese_texts_keep_their_diacritics() {
        assert_eq!(text(Lang::Vi, Key::Offline), "Ngoại tuyến");
        assert_eq!(text(Lang::Vi, Key::HomeTitle), "Trạm Y tế xã");
    }
}
