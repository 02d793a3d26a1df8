//! The one mapping from core errors to Python exceptions.
//!
//! The exception classes are defined in `stresslab/errors.py` (so they can inherit from both
//! `StresslabError` and the matching builtin, e.g. `ValueError`) and imported here.

use pyo3::prelude::*;
use stresslab_core::StressError;

pyo3::import_exception!(stresslab.errors, InvalidParameterError);
pyo3::import_exception!(stresslab.errors, InsufficientMemoryError);
pyo3::import_exception!(stresslab.errors, DataError);

/// Newtype so `?` converts core errors into Python exceptions.
pub struct PyStressError(pub StressError);

impl From<StressError> for PyStressError {
    fn from(e: StressError) -> Self {
        PyStressError(e)
    }
}

impl From<PyStressError> for PyErr {
    fn from(e: PyStressError) -> PyErr {
        let msg = e.0.to_string();
        match e.0 {
            StressError::InvalidParam { field, .. } => InvalidParameterError::new_err((msg, field)),
            StressError::Memory(_) => InsufficientMemoryError::new_err((msg,)),
            StressError::Data(_) => DataError::new_err((msg,)),
        }
    }
}

pub fn to_py<T>(r: stresslab_core::Result<T>) -> PyResult<T> {
    r.map_err(|e| PyErr::from(PyStressError(e)))
}
