//! What a backend module plugs in with, and the `backends!` macro that
//! turns the one list in [`backend`](super) into everything that used to be
//! written out per backend: the module declaration, the config file's
//! [`Profile`](super::Profile) enum (tagged by `kind`), its validation and
//! building, the [`AnyBackend`](super::AnyBackend) enum and its dispatch
//! (`name`, `polls`, `check`, `query`).
//!
//! A backend module provides the same small surface: a config type
//! (`deny_unknown_fields`), an implementation of [`Plugin`] (validate the
//! config without I/O; build from it and a [`Context`], reading secrets and
//! creating clients) and of [`Backend`](super::Backend) (its `NAME`, whether
//! it `POLLS`, `check`, `query`).

use crate::detect::Rules;

use super::{Backend, BackendError};

/// What building a backend may use besides its own config.
#[derive(Debug)]
pub struct Context<'a> {
    /// The profile's name (errors name it).
    pub name: &'a str,
    /// The Sigma rules, for backends whose alerting layer is embedded
    /// (`local`, `auditd`); others ignore them.
    pub rules: Rules,
}

/// A backend that can be built from a config profile.
pub trait Plugin: Backend + Sized {
    /// The profile's settings (everything but `kind`).
    type Config;
    /// Checks the settings' shape; no I/O, no secrets read.
    fn validate(config: &Self::Config) -> Result<(), String>;
    /// Reads secrets and creates clients with timeouts; no request yet.
    fn build(config: &Self::Config, ctx: Context<'_>) -> Result<Self, BackendError>;
}

/// The settings of a backend that has none (`kind: local`): any field but
/// the ones every profile has ([`Tuned`]) is an error, like in every other
/// profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoConfig;

impl<'de> serde::Deserialize<'de> for NoConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NoConfig, D::Error> {
        let map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        match map.keys().next() {
            Some(key) => Err(serde::de::Error::unknown_field(key, COMMON)),
            None => Ok(NoConfig),
        }
    }
}

/// The fields every profile has, whatever its `kind`.
const COMMON: &[&str] = &["alert_latency"];

/// A profile's settings: the backend's own (`backend`) and those every
/// profile has. Read from one YAML mapping: the common fields are taken
/// out and the rest must be exactly the backend's settings.
///
/// Why not `#[serde(flatten)]`: it turns `deny_unknown_fields` off in the
/// inner type and its errors lose the field's name. Here the backend's
/// settings are read from what is left with their own
/// `deny_unknown_fields`, and the error still names the field; a profile is
/// already buffered by its `kind` tag, so nothing is lost of the location
/// (the profile's) either.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned<C> {
    /// How long the product may take to raise an alert once a chain's
    /// telemetry is in (`alert_latency`): the quiet window after which a
    /// negative control with complete telemetry and no alert is settled.
    /// `None` takes the backend's documented default
    /// ([`Backend::ALERT_LATENCY`]).
    pub alert_latency: Option<std::time::Duration>,
    /// The backend's own settings.
    pub backend: C,
}

impl<C> Tuned<C> {
    /// `backend`'s settings with every common field at its default.
    pub fn new(backend: C) -> Tuned<C> {
        Tuned {
            alert_latency: None,
            backend,
        }
    }
}

impl<'de, C: serde::de::DeserializeOwned> serde::Deserialize<'de> for Tuned<C> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tuned<C>, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let alert_latency = match map.remove("alert_latency") {
            None => None,
            Some(serde_json::Value::String(text)) => Some(
                crate::vocab::duration_text::parse(&text)
                    .map_err(|e| D::Error::custom(format!("alert_latency: {e}")))?,
            ),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "alert_latency: expected a duration such as \"2m\" or \"0s\", found {other}"
                )));
            }
        };
        let backend = C::deserialize(serde_json::Value::Object(map)).map_err(D::Error::custom)?;
        Ok(Tuned {
            alert_latency,
            backend,
        })
    }
}

/// Implements [`Backend`] for `$ty` with its inherent `check` and `query`
/// (most backends keep them inherent, so their own tests call them without
/// importing the trait).
///
/// Items after the flags (`{ const ARRIVAL: … = …; fn cannot_hold(…) … }`)
/// go into the implementation as they are: the trait's optional parts.
macro_rules! inherent_backend {
    ($ty:ty, $name:literal, polls: $polls:literal, transcript $({ $($more:item)* })?) => {
        inherent_backend!(@impl $ty, $name, $polls, {
            fn transcript(&self) -> Option<&$crate::backend::transcript::Transcript> {
                Some(<$ty>::transcript(self))
            }
            $($($more)*)?
        });
    };
    ($ty:ty, $name:literal, polls: $polls:literal $({ $($more:item)* })?) => {
        inherent_backend!(@impl $ty, $name, $polls, { $($($more)*)? });
    };
    (@impl $ty:ty, $name:literal, $polls:literal, { $($extra:item)* }) => {
        impl $crate::backend::Backend for $ty {
            const NAME: &'static str = $name;
            const POLLS: bool = $polls;

            fn check(
                &self,
            ) -> impl std::future::Future<Output = Result<(), $crate::backend::BackendError>> {
                <$ty>::check(self)
            }

            fn query(
                &self,
                q: $crate::backend::Query<'_>,
            ) -> impl std::future::Future<
                Output = Result<Vec<$crate::backend::RunAnswer>, $crate::backend::BackendError>,
            > {
                <$ty>::query(self, q)
            }

            $($extra)*
        }
    };
}

/// Generates the backend modules, [`Profile`](super::Profile) and
/// [`AnyBackend`](super::AnyBackend) from one list. `profiles` are built
/// from the config file; `others` are built by their callers (recorded
/// telemetry, the verifier's scripted fake). A profile entry is
/// `Variant(module::Config) => module::Type,` or, for a backend without
/// settings, `Variant {} => module::Type,`; the `kind` is the variant's
/// name in lowercase.
macro_rules! backends {
    (
        profiles {
            $(
                $(#[doc = $pdoc:literal])*
                $(#[cfg($pcfg:meta)])?
                $pvariant:ident $pshape:tt => $pmod:ident :: $pty:ident,
            )*
        }
        others {
            $(
                $(#[doc = $odoc:literal])*
                $(#[cfg($ocfg:meta)])?
                $ovariant:ident => $omod:ident :: $oty:ident,
            )*
        }
    ) => {
        $( $(#[cfg($pcfg)])? pub mod $pmod; )*
        $( $(#[cfg($ocfg)])? pub mod $omod; )*

        /// One backend profile of the config file, tagged by `kind`.
        #[derive(Debug, Clone, serde::Deserialize, PartialEq)]
        #[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
        pub enum Profile {
            $(
                $(#[doc = $pdoc])* $(#[cfg($pcfg)])?
                $pvariant($crate::backend::plugin::Tuned<backends!(@settings $pshape)>),
            )*
        }

        impl Profile {
            /// Checks the profile's shape: no I/O, no secrets read.
            pub fn validate(&self) -> Result<(), String> {
                match self {
                    $(
                        $(#[cfg($pcfg)])?
                        Profile::$pvariant(tuned) =>
                            <$pmod::$pty as $crate::backend::plugin::Plugin>::validate(
                                &tuned.backend,
                            ),
                    )*
                }
            }

            /// The backend's kind as records name it ([`Backend::NAME`]),
            /// known before the backend is built or has answered.
            pub fn name(&self) -> &'static str {
                match self {
                    $(
                        $(#[cfg($pcfg)])?
                        Profile::$pvariant(_) => <$pmod::$pty as Backend>::NAME,
                    )*
                }
            }

            /// The quiet window negative controls are judged with: the
            /// profile's `alert_latency`, or its backend's documented
            /// default ([`Backend::ALERT_LATENCY`]).
            pub fn alert_latency(&self) -> std::time::Duration {
                match self {
                    $(
                        $(#[cfg($pcfg)])?
                        Profile::$pvariant(tuned) => tuned
                            .alert_latency
                            .unwrap_or(<$pmod::$pty as Backend>::ALERT_LATENCY),
                    )*
                }
            }

            /// Builds the backend: reads secrets, creates clients with
            /// timeouts. `rules` are used by the backends with an embedded
            /// alerting layer.
            pub fn build(
                &self,
                name: &str,
                rules: $crate::detect::Rules,
            ) -> Result<AnyBackend, BackendError> {
                let ctx = $crate::backend::plugin::Context { name, rules };
                Ok(match self {
                    $(
                        $(#[cfg($pcfg)])?
                        Profile::$pvariant(tuned) => AnyBackend::$pvariant(
                            Box::new(<$pmod::$pty as $crate::backend::plugin::Plugin>::build(
                                &tuned.backend,
                                ctx,
                            )?),
                        ),
                    )*
                })
            }
        }

        /// Every backend, closed set (boxed: some hold large rule sets).
        #[derive(Debug)]
        pub enum AnyBackend {
            $( $(#[doc = $pdoc])* $(#[cfg($pcfg)])? $pvariant(Box<$pmod::$pty>), )*
            $( $(#[doc = $odoc])* $(#[cfg($ocfg)])? $ovariant(Box<$omod::$oty>), )*
        }

        impl AnyBackend {
            /// Kind, as in the record.
            pub fn name(&self) -> &'static str {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(_) => <$pmod::$pty as Backend>::NAME, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(_) => <$omod::$oty as Backend>::NAME, )*
                }
            }

            /// Whether answers can change over time (remote backends ingest
            /// with a lag, so verification polls them until a deadline).
            pub fn polls(&self) -> bool {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(_) => <$pmod::$pty as Backend>::POLLS, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(_) => <$omod::$oty as Backend>::POLLS, )*
                }
            }

            /// The answer field latencies are measured from ([`Backend::ARRIVAL`]).
            pub fn arrival(&self) -> Option<&'static str> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(_) => <$pmod::$pty as Backend>::ARRIVAL, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(_) => <$omod::$oty as Backend>::ARRIVAL, )*
                }
            }

            /// The backend's documented quiet window ([`Backend::ALERT_LATENCY`]),
            /// for a backend built without a profile.
            pub fn alert_latency(&self) -> std::time::Duration {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(_) => <$pmod::$pty as Backend>::ALERT_LATENCY, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(_) => <$omod::$oty as Backend>::ALERT_LATENCY, )*
                }
            }

            /// Why the backend can never hold a hop of `kind` ([`Backend::cannot_hold`]).
            pub fn cannot_hold(&self, kind: $crate::vocab::HopKind) -> Option<&'static str> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(b) => Backend::cannot_hold(b.as_ref(), kind), )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(b) => Backend::cannot_hold(b.as_ref(), kind), )*
                }
            }

            /// What the backend verified of its sensor's prerequisites ([`Backend::prerequisites`]).
            pub async fn prerequisites(&self) -> Result<Vec<String>, BackendError> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(b) => Backend::prerequisites(b.as_ref()).await, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(b) => Backend::prerequisites(b.as_ref()).await, )*
                }
            }

            /// Proves connectivity and credentials.
            pub async fn check(&self) -> Result<(), BackendError> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(b) => Backend::check(b.as_ref()).await, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(b) => Backend::check(b.as_ref()).await, )*
                }
            }

            /// Answers for each run of the query, in order.
            pub async fn query(&self, q: Query<'_>) -> Result<Vec<RunAnswer>, BackendError> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(b) => Backend::query(b.as_ref(), q).await, )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(b) => Backend::query(b.as_ref(), q).await, )*
                }
            }

            /// Where this backend records its exchanges, if it makes any.
            pub fn transcript(&self) -> Option<&$crate::backend::transcript::Transcript> {
                match self {
                    $( $(#[cfg($pcfg)])? AnyBackend::$pvariant(b) => Backend::transcript(b.as_ref()), )*
                    $( $(#[cfg($ocfg)])? AnyBackend::$ovariant(b) => Backend::transcript(b.as_ref()), )*
                }
            }

            /// Starts recording every request this backend sends and its
            /// answer (for the evidence bundle).
            pub fn start_transcript(&self) {
                if let Some(t) = self.transcript() {
                    t.start();
                }
            }

            /// Stops recording and returns the exchanges since
            /// [`AnyBackend::start_transcript`].
            pub fn take_transcript(&self) -> Vec<$crate::backend::transcript::Exchange> {
                self.transcript()
                    .map($crate::backend::transcript::Transcript::finish)
                    .unwrap_or_default()
            }
        }
    };
    // A profile variant's own settings type.
    (@settings {}) => { $crate::backend::plugin::NoConfig };
    (@settings ($ty:ty)) => { $ty };
}
