//! A build without the lab (the Windows release): `lab …` and `--lab` say so, with the way to
//! the lab of a Linux build.

use super::output::{Outcome, Output};
use super::{Error, LabCommand, LabMode};

/// `--lab` in a build without the lab.
pub async fn preset(wanted: bool) -> Result<LabMode, Error> {
    if wanted { Err(Error::NoLab) } else { Ok(None) }
}

/// The wizard's `--lab` in a build without the lab.
#[cfg(feature = "gui")]
pub fn starter(wanted: bool) -> Result<Option<writeback_gui::worker::LabStarter>, Error> {
    if wanted { Err(Error::NoLab) } else { Ok(None) }
}

/// `lab …` in a build without the lab.
pub async fn run(_command: LabCommand, _out: Output) -> Result<Outcome, Error> {
    Err(Error::NoLab)
}
