/* A local stand-in for Stripe.js (https://js.stripe.com), for local runs and tests only: served by
 * infra/local/localstripe_compat.py at <localstripe>/js.stripe.com/v3/ in place of localstripe's own
 * fake, whose confirmCardPayment ignores the typed card. Written for this project.
 *
 * What it does, against the localstripe it is served by (the origin of this script):
 * - Stripe(publishableKey) with elements(), createPaymentMethod, confirmCardPayment, confirmCardSetup,
 *   createToken (refused: no tokens here), retrievePaymentIntent, retrieveSetupIntent, and what
 *   @stripe/stripe-js and @stripe/react-stripe-js call (version, _registerWrapper, registerAppInfo);
 * - elements(): create('card') (the only element), getElement('card' or CardElement), update,
 *   fetchUpdates, submit;
 * - the card element: three inputs (card number, expiry MM / YY, CVC) in the page itself (Stripe's are
 *   in an iframe), mount/unmount/destroy, update, focus/blur/clear, on/off/once with 'ready',
 *   'change' ({elementType, empty, complete, error, brand, value}), 'focus', 'blur';
 * - confirming: the payment method is created from the typed card and billing details
 *   (POST /v1/payment_methods), then the PaymentIntent or SetupIntent is confirmed with it and its
 *   client_secret (POST /v1/{payment,setup}_intents/<id>/confirm), all with the publishable key in the
 *   form as Stripe.js sends it. A declined card (4000 0000 0000 0002 and Stripe's other declining test
 *   numbers, as localstripe and the compatibility layer decline them) answers {error} with Stripe's
 *   card_error; 3-D Secure is not played here (an intent left requires_action answers an error).
 * Nothing here logs what is typed.
 */
(function () {
  'use strict';
  var script = document.currentScript;
  var API = script && script.src ? new URL(script.src).origin : window.location.origin;

  function form(params, prefix, out) {
    out = out || [];
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      var name = prefix ? prefix + '[' + k + ']' : k;
      if (v === undefined || v === null) return;
      if (typeof v === 'object') form(v, name, out);
      else out.push(encodeURIComponent(name) + '=' + encodeURIComponent(String(v)));
    });
    return out.join('&');
  }

  function post(key, path, params) {
    var body = form(Object.assign({}, params, { key: key }));
    return fetch(API + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body,
    }).then(function (res) {
      return res.json().then(
        function (json) {
          return { ok: res.ok, status: res.status, json: json };
        },
        function () {
          return { ok: false, status: res.status, json: { error: { type: 'api_error', message: 'The local Stripe answered ' + res.status + '.' } } };
        },
      );
    }, function () {
      return { ok: false, status: 0, json: { error: { type: 'api_connection_error', message: 'The local Stripe could not be reached.' } } };
    });
  }

  function intentId(clientSecret) {
    var at = typeof clientSecret === 'string' ? clientSecret.indexOf('_secret_') : -1;
    return at > 0 ? clientSecret.slice(0, at) : null;
  }

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = Number(digits[digits.length - 1 - i]);
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function brandOf(digits) {
    if (/^4/.test(digits)) return 'visa';
    if (/^(5[1-5]|2[2-7])/.test(digits)) return 'mastercard';
    if (/^3[47]/.test(digits)) return 'amex';
    if (/^6(011|5)/.test(digits)) return 'discover';
    return 'unknown';
  }

  // ---- the card element --------------------------------------------------------------------------

  function CardElement(elements, options) {
    this._elements = elements;
    this._options = options || {};
    this._handlers = {};
    this._node = null;
    this._inputs = null;
    this._destroyed = false;
  }

  CardElement.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };
  CardElement.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };
  CardElement.prototype.once = function (event, handler) {
    var self = this;
    function once(e) {
      self.off(event, once);
      handler(e);
    }
    return this.on(event, once);
  };
  CardElement.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (h) {
      try {
        h(payload);
      } catch (err) {
        setTimeout(function () { throw err; });
      }
    });
  };

  CardElement.prototype._values = function () {
    var i = this._inputs;
    if (!i) return { number: '', month: 0, year: 0, cvc: '' };
    var number = i.number.value.replace(/\D/g, '');
    var exp = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(i.expiry.value);
    var month = exp ? Number(exp[1]) : 0;
    var year = exp ? Number(exp[2]) : 0;
    if (year > 0 && year < 100) year += 2000;
    return { number: number, month: month, year: year, cvc: i.cvc.value.replace(/\D/g, '') };
  };

  CardElement.prototype._state = function () {
    var v = this._values();
    var empty = !v.number && !this._inputs.expiry.value.trim() && !v.cvc;
    var error;
    var now = new Date();
    if (v.number.length >= 16 && !luhn(v.number)) error = { type: 'validation_error', code: 'invalid_number', message: 'Your card number is invalid.' };
    else if (this._inputs.expiry.value.trim() && v.month && (v.month < 1 || v.month > 12)) error = { type: 'validation_error', code: 'invalid_expiry_month', message: "Your card's expiration month is invalid." };
    else if (v.year && (v.year < now.getFullYear() || (v.year === now.getFullYear() && v.month < now.getMonth() + 1))) error = { type: 'validation_error', code: 'invalid_expiry_year_past', message: "Your card's expiration year is in the past." };
    var complete = !error && v.number.length === 16 && luhn(v.number) && v.month >= 1 && v.month <= 12 && v.year > 0 && v.cvc.length === 3;
    return { elementType: 'card', empty: empty, complete: complete, error: error, brand: brandOf(v.number), value: {} };
  };

  CardElement.prototype._incomplete = function () {
    var v = this._values();
    var s = this._state();
    if (s.error) return s.error;
    if (v.number.length !== 16 || !luhn(v.number)) return { type: 'validation_error', code: 'incomplete_number', message: 'Your card number is incomplete.' };
    if (!(v.month >= 1 && v.month <= 12 && v.year > 0)) return { type: 'validation_error', code: 'incomplete_expiry', message: "Your card's expiration date is incomplete." };
    if (v.cvc.length !== 3) return { type: 'validation_error', code: 'incomplete_cvc', message: "Your card's security code is incomplete." };
    return null;
  };

  CardElement.prototype.mount = function (target) {
    var node = typeof target === 'string' ? document.querySelector(target) : target;
    if (!node) throw new Error('The local Stripe.js found nothing to mount the card element on.');
    var self = this;
    var box = document.createElement('div');
    box.className = 'local-stripe-card';
    box.style.display = 'flex';
    box.style.flexWrap = 'wrap';
    box.style.gap = '0.5rem';
    function field(name, label, placeholder, autocomplete, width) {
      var input = document.createElement('input');
      input.type = 'text';
      input.inputMode = 'numeric';
      input.name = name;
      input.placeholder = placeholder;
      input.autocomplete = autocomplete;
      input.setAttribute('aria-label', label);
      input.style.flex = width;
      input.style.minWidth = '0';
      input.style.font = 'inherit';
      input.style.padding = '0.4rem 0.5rem';
      input.style.border = '1px solid #8c959f';
      input.style.borderRadius = '6px';
      input.addEventListener('input', function () { self._emit('change', self._state()); });
      input.addEventListener('focus', function () { self._emit('focus', { elementType: 'card' }); });
      input.addEventListener('blur', function () { self._emit('blur', { elementType: 'card' }); });
      box.appendChild(input);
      return input;
    }
    this._inputs = {
      number: field('cardnumber', 'Card number', '1234 1234 1234 1234', 'cc-number', '3 1 10rem'),
      expiry: field('exp-date', 'Expiration date (MM / YY)', 'MM / YY', 'cc-exp', '1 1 5rem'),
      cvc: field('cvc', 'Security code (CVC)', 'CVC', 'cc-csc', '1 1 4rem'),
    };
    if (this._options.disabled) this.update({ disabled: true });
    node.appendChild(box);
    this._node = node;
    this._box = box;
    setTimeout(function () { if (!self._destroyed) self._emit('ready', { elementType: 'card' }); }, 0);
  };
  CardElement.prototype.unmount = function () {
    if (this._box && this._box.parentNode) this._box.parentNode.removeChild(this._box);
    this._node = null;
  };
  CardElement.prototype.destroy = function () {
    this.unmount();
    this._destroyed = true;
    this._handlers = {};
    this._elements._forget(this);
  };
  CardElement.prototype.update = function (options) {
    this._options = Object.assign({}, this._options, options || {});
    if (this._inputs && options && 'disabled' in options) {
      var inputs = this._inputs;
      Object.keys(inputs).forEach(function (k) { inputs[k].disabled = !!options.disabled; });
    }
  };
  CardElement.prototype.focus = function () { if (this._inputs) this._inputs.number.focus(); };
  CardElement.prototype.blur = function () { if (this._inputs && document.activeElement) document.activeElement.blur(); };
  CardElement.prototype.clear = function () {
    var inputs = this._inputs;
    if (!inputs) return;
    Object.keys(inputs).forEach(function (k) { inputs[k].value = ''; });
    this._emit('change', this._state());
  };

  // ---- elements ----------------------------------------------------------------------------------

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = options || {};
    this._card = null;
  }
  Elements.prototype.create = function (type, options) {
    if (type !== 'card') throw new Error('The local Stripe.js has only the card element, not ' + type + '.');
    if (this._card) throw new Error('Can only create one Element of type card.');
    this._card = new CardElement(this, options);
    return this._card;
  };
  Elements.prototype.getElement = function (type) {
    var name = typeof type === 'string' ? type : type && type.__elementType;
    return name === 'card' ? this._card : null;
  };
  Elements.prototype._forget = function (element) {
    if (this._card === element) this._card = null;
  };
  Elements.prototype.update = function (options) { this._options = Object.assign({}, this._options, options || {}); };
  Elements.prototype.fetchUpdates = function () { return Promise.resolve({}); };
  Elements.prototype.submit = function () {
    var problem = this._card ? this._card._incomplete() : { type: 'validation_error', message: 'No card element.' };
    return Promise.resolve(problem ? { error: problem } : {});
  };

  // ---- the Stripe object -------------------------------------------------------------------------

  function LocalStripe(key) {
    if (typeof key !== 'string' || key.indexOf('pk_') !== 0) throw new Error('Invalid publishable key: a pk_ key is needed.');
    this._key = key;
  }
  LocalStripe.prototype.elements = function (options) { return new Elements(this, options); };
  LocalStripe.prototype._registerWrapper = function () {};
  LocalStripe.prototype.registerAppInfo = function () {};
  LocalStripe.prototype.createToken = function () {
    return Promise.resolve({ error: { type: 'invalid_request_error', message: 'The local Stripe.js makes payment methods, not tokens.' } });
  };

  LocalStripe.prototype._paymentMethod = function (data) {
    // data: a payment method id, or {card: element, billing_details}
    if (typeof data === 'string') return Promise.resolve({ id: data });
    if (!data || !data.card || typeof data.card._values !== 'function') {
      return Promise.resolve({ error: { type: 'invalid_request_error', message: 'A card element is needed to pay by card.' } });
    }
    var problem = data.card._incomplete();
    if (problem) return Promise.resolve({ error: problem });
    var v = data.card._values();
    return post(this._key, '/v1/payment_methods', {
      type: 'card',
      card: { number: v.number, exp_month: v.month, exp_year: v.year, cvc: v.cvc },
      billing_details: data.billing_details || undefined,
    }).then(function (r) {
      return r.ok ? { id: r.json.id, paymentMethod: r.json } : { error: r.json.error };
    });
  };

  LocalStripe.prototype.createPaymentMethod = function (options) {
    var opts = options || {};
    if (opts.elements) {
      var card = opts.elements.getElement('card');
      opts = { type: 'card', card: card, billing_details: opts.params && opts.params.billing_details };
    }
    if (opts.type && opts.type !== 'card') return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Only card payment methods here.' } });
    return this._paymentMethod({ card: opts.card, billing_details: opts.billing_details }).then(function (r) {
      return r.error ? { error: r.error } : { paymentMethod: r.paymentMethod };
    });
  };

  LocalStripe.prototype._confirm = function (kind, clientSecret, data) {
    var key = this._key;
    var id = intentId(clientSecret);
    if (!id) return Promise.resolve({ error: { type: 'invalid_request_error', message: 'Invalid client_secret.' } });
    var method = data && data.payment_method;
    var made = method === undefined ? Promise.resolve({ id: undefined }) : this._paymentMethod(method);
    return made.then(function (pm) {
      if (pm.error) return { error: pm.error };
      return post(key, '/v1/' + kind + 's/' + encodeURIComponent(id) + '/confirm', {
        client_secret: clientSecret,
        payment_method: pm.id,
      }).then(function (r) {
        var name = kind === 'payment_intent' ? 'paymentIntent' : 'setupIntent';
        if (!r.ok) return { error: r.json.error || { type: 'api_error', message: 'The payment was not confirmed.' } };
        if (r.json.status === 'requires_action') {
          return { error: { type: 'card_error', code: kind + '_authentication_failure', message: 'This card needs 3-D Secure, which the local Stripe.js does not play.' } };
        }
        var result = {};
        result[name] = r.json;
        return result;
      });
    });
  };

  LocalStripe.prototype.confirmCardPayment = function (clientSecret, data) { return this._confirm('payment_intent', clientSecret, data); };
  LocalStripe.prototype.confirmCardSetup = function (clientSecret, data) { return this._confirm('setup_intent', clientSecret, data); };

  LocalStripe.prototype._retrieve = function (kind, clientSecret) {
    var id = intentId(clientSecret);
    var url = API + '/v1/' + kind + 's/' + encodeURIComponent(id || '') + '?' + form({ key: this._key, client_secret: clientSecret });
    return fetch(url).then(function (res) {
      return res.json().then(function (json) {
        var result = {};
        if (!res.ok) return { error: json.error };
        result[kind === 'payment_intent' ? 'paymentIntent' : 'setupIntent'] = json;
        return result;
      });
    });
  };
  LocalStripe.prototype.retrievePaymentIntent = function (clientSecret) { return this._retrieve('payment_intent', clientSecret); };
  LocalStripe.prototype.retrieveSetupIntent = function (clientSecret) { return this._retrieve('setup_intent', clientSecret); };

  function Stripe(key) {
    return new LocalStripe(key);
  }
  // The release train @stripe/stripe-js expects (it warns when another is on the page).
  Stripe.version = 'endive';
  window.Stripe = Stripe;
})();
