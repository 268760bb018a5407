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

/// The settings of a backend that has none (`kind: local`); its profile is
/// a struct variant without fields, so an unknown field is an error like
/// in every other profile (a unit variant would ignore it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoConfig;

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
            $( $(#[doc = $pdoc])* $(#[cfg($pcfg)])? $pvariant $pshape, )*
        }

        impl Profile {
            /// Checks the profile's shape: no I/O, no secrets read.
            pub fn validate(&self) -> Result<(), String> {
                match self {
                    $(
                        $(#[cfg($pcfg)])?
                        backends!(@pattern config, $pvariant $pshape) =>
                            <$pmod::$pty as $crate::backend::plugin::Plugin>::validate(
                                backends!(@config config, $pshape),
                            ),
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
                        backends!(@pattern config, $pvariant $pshape) => AnyBackend::$pvariant(
                            Box::new(<$pmod::$pty as $crate::backend::plugin::Plugin>::build(
                                backends!(@config config, $pshape),
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
    // A profile variant's pattern, binding its settings to `$c`.
    (@pattern $c:ident, $variant:ident {}) => { Profile::$variant {} };
    (@pattern $c:ident, $variant:ident ($ty:ty)) => { Profile::$variant($c) };
    // What the plug-in is given as its settings.
    (@config $c:ident, {}) => { &$crate::backend::plugin::NoConfig };
    (@config $c:ident, ($ty:ty)) => { $c };
}
