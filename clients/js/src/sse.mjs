// A Server-Sent Events parser (the WHATWG "event stream interpretation"),
// fed text chunks of any size. Used by RelaySync.follow().

export class SSEParser {
  /**
   * @param {(ev: {id: string, event: string, data: string}) => void} onEvent
   * @param {{lastEventId?: string}} [init]
   */
  constructor(onEvent, { lastEventId = "" } = {}) {
    this.onEvent = onEvent;
    this.lastEventId = lastEventId; // the "last event ID buffer"
    this.retry = null; // the last `retry:` value (ms), or null
    this._buf = "";
    this._data = "";
    this._dataSeen = false;
    this._event = "";
    this._sawCR = false;
    this._first = true;
  }

  push(text) {
    if (this._first && text.length) {
      this._first = false;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let s = this._buf + text;
    let start = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10 /* \n */) {
        if (this._sawCR && i === start) {
          // the \n of a \r\n pair that straddled two chunks
          this._sawCR = false;
          start = i + 1;
          continue;
        }
        this._line(s.slice(start, i));
        start = i + 1;
        this._sawCR = false;
      } else if (c === 13 /* \r */) {
        this._line(s.slice(start, i));
        if (i + 1 < s.length && s.charCodeAt(i + 1) === 10) i++;
        else if (i + 1 === s.length) this._sawCR = true;
        start = i + 1;
      } else {
        this._sawCR = false;
      }
    }
    this._buf = s.slice(start);
  }

  /** The stream ended: an incomplete event at the end is discarded (as the spec says). */
  end() {
    this._buf = "";
    this._data = "";
    this._dataSeen = false;
    this._event = "";
  }

  _line(line) {
    if (line === "") {
      this._dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) return; // comment
    const colon = line.indexOf(":");
    let field, value;
    if (colon === -1) {
      field = line;
      value = "";
    } else {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
    }
    switch (field) {
      case "event":
        this._event = value;
        break;
      case "data":
        this._data += value + "\n";
        this._dataSeen = true;
        break;
      case "id":
        if (!value.includes("\0")) this.lastEventId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this.retry = parseInt(value, 10);
        break;
      default:
        break; // ignored
    }
  }

  _dispatch() {
    if (!this._dataSeen) {
      this._event = "";
      return;
    }
    let data = this._data;
    if (data.endsWith("\n")) data = data.slice(0, -1);
    const ev = { id: this.lastEventId, event: this._event || "message", data };
    this._data = "";
    this._dataSeen = false;
    this._event = "";
    this.onEvent(ev);
  }
}
