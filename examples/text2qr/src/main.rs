//! text2qr: input parameter `text`, output artifact `qrcode`: a PNG QR code of the text.
use image::Luma;
use qrcode::QrCode;
use wasm_workflows_sdk::{run, Error};

/// QR codes hold at most 2953 bytes (version 40, low error correction); fail clearly above that.
const MAX_TEXT_BYTES: usize = 2953;

fn main() {
    run(|invocation, output| {
        let text = invocation.require_parameter("text")?;
        if text.is_empty() {
            return Err(Error("input parameter text is empty".into()));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(Error(format!(
                "input parameter text is {} bytes; a QR code holds at most {MAX_TEXT_BYTES}",
                text.len()
            )));
        }
        let code = QrCode::new(text.as_bytes()).map_err(|e| Error(format!("QR encoding: {e}")))?;
        let picture = code.render::<Luma<u8>>().min_dimensions(200, 200).build();
        let path = output.artifact("qrcode")?;
        picture
            .save_with_format(&path, image::ImageFormat::Png)
            .map_err(|e| Error(format!("cannot write {}: {e}", path.display())))?;
        output.message(format!(
            "QR code {}x{} px",
            picture.width(),
            picture.height()
        ));
        Ok(())
    })
}
