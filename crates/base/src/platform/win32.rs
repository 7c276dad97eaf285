//! The Win32 calls the product makes for its state folder: create it with its security
//! descriptor in the one call (no window in which it exists with ProgramData's inherited
//! permissions), and read an object's descriptor back. The only unsafe code of the product: the
//! `windows` crate's bindings are unsafe by nature; each call is made with owned buffers and its
//! result checked.
#![allow(unsafe_code)]

use std::os::windows::ffi::OsStrExt;
use std::path::Path;

use windows::Win32::Foundation::{CloseHandle, HANDLE};
use windows::Win32::Foundation::{HLOCAL, LocalFree};
use windows::Win32::Security::Authorization::{ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1};
use windows::Win32::Security::{
    DACL_SECURITY_INFORMATION, GROUP_SECURITY_INFORMATION, GetFileSecurityW, OWNER_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR, SECURITY_ATTRIBUTES,
};
use windows::Win32::Security::{GetTokenInformation, TOKEN_QUERY, TOKEN_USER, TokenUser};
use windows::Win32::Storage::FileSystem::CreateDirectoryW;
use windows::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};
use windows::core::PCWSTR;

fn wide(s: impl AsRef<std::ffi::OsStr>) -> Vec<u16> {
    s.as_ref().encode_wide().chain(std::iter::once(0)).collect()
}

/// Creates `dir` with the security descriptor `sddl` (owner, DACL) in one call.
pub fn create_dir_with(dir: &Path, sddl: &str) -> std::io::Result<()> {
    let text = wide(sddl);
    let mut sd = PSECURITY_DESCRIPTOR::default();
    // SAFETY: `text` is a NUL-terminated UTF-16 string that outlives the call; `sd` receives a
    // LocalAlloc'd descriptor, freed below whatever CreateDirectoryW answers.
    unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(PCWSTR(text.as_ptr()), SDDL_REVISION_1, &mut sd, None)
    }
    .map_err(std::io::Error::other)?;
    let attributes = SECURITY_ATTRIBUTES {
        nLength: std::mem::size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: sd.0,
        bInheritHandle: false.into(),
    };
    let path = wide(dir);
    // SAFETY: `path` is NUL-terminated and outlives the call; `attributes` points at the
    // descriptor made above, still allocated.
    let created = unsafe { CreateDirectoryW(PCWSTR(path.as_ptr()), Some(&attributes)) };
    // SAFETY: `sd` was allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW with
    // LocalAlloc and is freed once.
    unsafe {
        let _ = LocalFree(Some(HLOCAL(sd.0)));
    }
    created.map_err(std::io::Error::other)
}

/// The self-relative security descriptor (owner, group, DACL) of a file or folder.
pub fn security_descriptor(path: &Path) -> std::io::Result<Vec<u8>> {
    let name = wide(path);
    let wanted = (OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION).0;
    let mut needed = 0u32;
    // SAFETY: a size query: no buffer, `needed` receives the size.
    let _ = unsafe { GetFileSecurityW(PCWSTR(name.as_ptr()), wanted, None, 0, &mut needed) };
    if needed == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut buf = vec![0u8; needed as usize];
    // SAFETY: `buf` holds `needed` bytes and outlives the call.
    let ok = unsafe {
        GetFileSecurityW(
            PCWSTR(name.as_ptr()),
            wanted,
            Some(PSECURITY_DESCRIPTOR(buf.as_mut_ptr().cast())),
            needed,
            &mut needed,
        )
    };
    if ok.as_bool() {
        buf.truncate(needed as usize);
        Ok(buf)
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The SID (binary) of the account this process runs as.
pub fn current_user_sid() -> std::io::Result<Vec<u8>> {
    let mut token = HANDLE::default();
    // SAFETY: the pseudo handle of this process; `token` receives a handle closed below.
    unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) }.map_err(std::io::Error::other)?;
    let mut needed = 0u32;
    // SAFETY: a size query: no buffer, `needed` receives the size.
    let _ = unsafe { GetTokenInformation(token, TokenUser, None, 0, &mut needed) };
    // Aligned for TOKEN_USER (its first field is a pointer).
    let mut buf = vec![0u64; (needed as usize).div_ceil(8).max(1)];
    // SAFETY: `buf` holds at least `needed` bytes and outlives the call.
    let got = unsafe {
        GetTokenInformation(token, TokenUser, Some(buf.as_mut_ptr().cast()), (buf.len() * 8) as u32, &mut needed)
    };
    // SAFETY: `token` was opened above and is closed once.
    unsafe {
        let _ = CloseHandle(token);
    }
    got.map_err(std::io::Error::other)?;
    // SAFETY: GetTokenInformation filled `buf` with a TOKEN_USER whose SID points inside `buf`;
    // a SID is 8 bytes and 4 per sub-authority, the count at its second byte.
    let sid = unsafe {
        let user = &*(buf.as_ptr().cast::<TOKEN_USER>());
        let p = user.User.Sid.0.cast::<u8>();
        let count = *p.add(1) as usize;
        std::slice::from_raw_parts(p, 8 + 4 * count).to_vec()
    };
    Ok(sid)
}

/// SSPI's Kerberos package with explicit credentials: LSA keeps them for this handle only (no
/// logon session, nothing cached for the user), and the KDC judges them at the first
/// InitializeSecurityContext.
pub fn kerberos_with_password(
    user: &str,
    domain: &str,
    password: &str,
) -> Result<cross_krb5::Cred, super::KerberosFailure> {
    use windows::Win32::Security::Authentication::Identity::{AcquireCredentialsHandleW, SECPKG_CRED_OUTBOUND};
    use windows::Win32::Security::Credentials::SecHandle;
    use windows::Win32::System::Rpc::{SEC_WINNT_AUTH_IDENTITY_UNICODE, SEC_WINNT_AUTH_IDENTITY_W};
    use zeroize::Zeroize;
    let mut user_w: Vec<u16> = user.encode_utf16().collect();
    let mut domain_w: Vec<u16> = domain.encode_utf16().collect();
    let mut password_w: Vec<u16> = password.encode_utf16().collect();
    let identity = SEC_WINNT_AUTH_IDENTITY_W {
        User: user_w.as_mut_ptr(),
        UserLength: user_w.len() as u32,
        Domain: domain_w.as_mut_ptr(),
        DomainLength: domain_w.len() as u32,
        Password: password_w.as_mut_ptr(),
        PasswordLength: password_w.len() as u32,
        Flags: SEC_WINNT_AUTH_IDENTITY_UNICODE,
    };
    let package = wide("Kerberos");
    let mut handle = SecHandle::default();
    let mut expiry = 0i64;
    // SAFETY: `identity` points at the three buffers above, alive until the call returns (SSPI
    // copies what it keeps); `package` is NUL-terminated; `handle` receives the credential,
    // owned from here by cross_krb5::Cred, which frees it on drop.
    let acquired = unsafe {
        AcquireCredentialsHandleW(
            None,
            PCWSTR(package.as_ptr()),
            SECPKG_CRED_OUTBOUND,
            None,
            Some(std::ptr::from_ref(&identity).cast()),
            None,
            None,
            &mut handle,
            Some(&mut expiry),
        )
    };
    password_w.zeroize();
    acquired.map_err(|e| super::KerberosFailure {
        text: format!("{} (0x{:08X})", e.message(), e.code().0 as u32).trim_start().to_string(),
        code: Some(e.code().0 as u32),
    })?;
    Ok(cross_krb5::Cred::from(handle))
}

/// The logon session's own Kerberos credential (SSPI default credentials) and the account's name
/// (`DOMAIN\user`).
pub fn kerberos_current_user() -> Result<(cross_krb5::Cred, String), super::KerberosFailure> {
    use cross_krb5::K5Cred;
    use windows::Win32::Security::Authentication::Identity::{GetUserNameExW, NameSamCompatible};
    let cred = cross_krb5::Cred::client_acquire(cross_krb5::InitiateFlags::empty(), None)
        .map_err(|e| super::KerberosFailure { text: format!("{e:#}"), code: None })?;
    let mut size = 0u32;
    // SAFETY: a size query: no buffer, `size` receives the length with the NUL.
    let _ = unsafe { GetUserNameExW(NameSamCompatible, None, &mut size) };
    let mut buf = vec![0u16; size.max(1) as usize];
    // SAFETY: `buf` holds `size` UTF-16 units and outlives the call.
    let ok = unsafe { GetUserNameExW(NameSamCompatible, Some(windows::core::PWSTR(buf.as_mut_ptr())), &mut size) };
    if !ok {
        return Err(super::KerberosFailure { text: std::io::Error::last_os_error().to_string(), code: None });
    }
    Ok((cred, String::from_utf16_lossy(&buf[..size as usize])))
}
